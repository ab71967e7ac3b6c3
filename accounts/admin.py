from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User

_SCOPE = (_("角色与管辖范围"), {"fields": ("role", "region", "unit")})
# Access comes from the role and the scope, never from Django's groups and permission tables (whose
# entries Django names in English), so the form leaves those two out.
_UNUSED = {"groups", "user_permissions"}


def _superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Accounts and their scopes are managed by superusers only, whatever Django permissions
    an account may have been given: a scope is a grant of access."""

    fieldsets = tuple(
        (title, {**options, "fields": tuple(name for name in options["fields"] if name not in _UNUSED)})
        for title, options in BaseUserAdmin.fieldsets
    ) + (_SCOPE,)
    filter_horizontal = ()
    add_fieldsets = BaseUserAdmin.add_fieldsets + (_SCOPE,)
    list_display = ["username", "first_name", "role", "region", "unit", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_active", "is_superuser"]
    list_select_related = ["region", "unit"]
    autocomplete_fields = ["region", "unit"]

    def has_module_permission(self, request):
        return _superuser(request)

    def has_view_permission(self, request, obj=None):
        return _superuser(request)

    def has_add_permission(self, request):
        return _superuser(request)

    def has_change_permission(self, request, obj=None):
        return _superuser(request)

    def has_delete_permission(self, request, obj=None):
        return _superuser(request)
