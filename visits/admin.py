from django.contrib import admin

from shuanglian.admin_scope import ScopedAdmin

from .models import LockedMonth, Visit


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    """Read-only here: visits are entered on the pages, where every refusal is checked."""

    deletable = False  # the diary is the record everything is judged on

    list_display = ["visited_on", "household", "cadre", "mode", "recorded_by", "recorded_at"]
    list_filter = ["mode", "visited_on"]
    search_fields = ["household__head_name", "cadre__name"]
    list_select_related = ["household", "cadre", "recorded_by"]
    date_hierarchy = "visited_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LockedMonth)
class LockedMonthAdmin(ScopedAdmin):
    deletable = False  # deleting a lock would reopen an approved month
    list_display = ["region", "month", "locked_at"]
    list_select_related = ["region"]

    def has_add_permission(self, request):
        return False  # months are locked by approving their report

    def has_change_permission(self, request, obj=None):
        return False
