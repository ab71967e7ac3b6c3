"""The admin, scoped like the pages.

Every list, change page, form choice and autocomplete answer goes through the
model's `visible_to(user)`, so an object outside the user's scope does not exist
for the admin either; roles (shuanglian.access.WRITE_ROLES), not Django's
per-model permission tables, decide who may change what.

Two traps stay open for anyone adding an admin here: a `list_filter` on a
foreign key lists every related row in the database (RelatedFieldListFilter is
not scoped), and a `list_display` callable that follows a relation runs one
query per row unless the relation is in `list_select_related` or annotated in
`get_queryset`.
"""

from django.contrib import admin
from import_export.admin import ExportMixin

from .access import can_write
from .lib.excel import SafeXLSX


def has_role(user) -> bool:
    """May open the admin and read in it: an active staff account with a role, or a superuser."""
    return bool(user.is_active and user.is_staff and (user.is_superuser or getattr(user, "role", "")))


def scoped_choices(db_field, user):
    """The rows a foreign key may point at for `user`: the target's `visible_to(user)`,
    narrowed by the field's `limit_choices_to` (a household's village must be a village).

    None when the target model is not located (e.g. the user who recorded a row).
    """
    manager = db_field.related_model._default_manager
    if not hasattr(manager, "visible_to"):
        return None
    return manager.visible_to(user).complex_filter(db_field.get_limit_choices_to())


class ScopedMixin:
    """Scoping shared by model admins and inlines."""

    def get_queryset(self, request):
        queryset = self.model._default_manager.visible_to(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = scoped_choices(db_field, request.user)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedAdmin(ScopedMixin, admin.ModelAdmin):
    """Base of every model admin.

    Reading: any staff account with a role, within its scope. Writing: the roles
    that `can_write` names for the model. Deleting: superusers only, and nobody
    where `deletable = False` (dated relations end, they are never deleted).
    """

    deletable = True

    def has_module_permission(self, request):
        return has_role(request.user)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user)

    def has_add_permission(self, request):
        return has_role(request.user) and can_write(request.user, self.model)

    def has_change_permission(self, request, obj=None):
        return has_role(request.user) and can_write(request.user, self.model)

    def has_delete_permission(self, request, obj=None):
        return self.deletable and request.user.is_active and request.user.is_superuser


class ScopedExportMixin(ExportMixin):
    """导出 on a list: the rows the list shows (scope, search, filters) as .xlsx, through the
    app's one workbook writer. Only those who may open the list may export it: django-import-export
    lets every staff account export unless a permission code is set, and the app's roles are not
    Django permissions."""

    formats = [SafeXLSX]
    skip_export_form = True

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def has_import_permission(self, request):
        # Rosters come in through imports/, which checks every row; never through the admin.
        return False


class ScopedInline(ScopedMixin, admin.TabularInline):
    """Rows edited inside their parent's page, under the same rules as a ScopedAdmin."""

    extra = 0

    def get_queryset(self, request):
        if not self.has_view_or_change_permission(request):
            return super().get_queryset(request).none()
        return super().get_queryset(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user)

    def has_add_permission(self, request, obj=None):
        return has_role(request.user) and can_write(request.user, self.model)

    def has_change_permission(self, request, obj=None):
        return has_role(request.user) and can_write(request.user, self.model)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class ReadOnlyAdmin(ScopedAdmin):
    """Shown (and exported where the admin adds it), never written here: the services behind the
    pages are the only way to change these rows, because they check who acts and keep the history."""

    deletable = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ScopedInline):
    """Rows shown under their parent (a plan's versions, a demand's actions, an inspection's
    sampled visits), never edited here, for the same reason as ReadOnlyAdmin."""

    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
