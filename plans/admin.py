from django.contrib import admin

from shuanglian.admin_scope import ScopedAdmin

from .models import HouseholdPlan, VillagePlan


class PlanAdmin(ScopedAdmin):
    """Read-only here: plans are saved on their pages, where every save writes a version."""

    deletable = False  # a plan's history is the record of what was promised

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VillagePlan)
class VillagePlanAdmin(PlanAdmin):
    list_display = ["village", "year", "leading_industry", "version", "updated_by", "updated_at"]
    list_filter = ["year"]
    search_fields = ["village__name", "leading_industry"]
    list_select_related = ["village", "updated_by"]


@admin.register(HouseholdPlan)
class HouseholdPlanAdmin(PlanAdmin):
    list_display = ["household", "year", "version", "updated_by", "updated_at"]
    list_filter = ["year"]
    search_fields = ["household__head_name"]
    list_select_related = ["household", "updated_by"]
