from django.contrib import admin

from shuanglian.admin_scope import ScopedAdmin

from .models import LockedMonth, UnitVisit, Visit, VisitQuota


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


@admin.register(UnitVisit)
class UnitVisitAdmin(ScopedAdmin):
    """Read-only here, like household visits: entered on the page, where the link date is checked."""

    deletable = False
    list_display = ["visited_on", "unit", "village", "recorded_by", "recorded_at"]
    list_filter = ["visited_on"]
    search_fields = ["unit__name", "village__name"]
    list_select_related = ["unit", "village", "recorded_by"]
    date_hierarchy = "visited_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VisitQuota)
class VisitQuotaAdmin(ScopedAdmin):
    """The county office sets its own quotas; counties without a row use the defaults (4 and 6)."""

    list_display = ["county", "household_visits_per_year", "village_visits_per_year", "updated_at"]
    list_select_related = ["county"]
