from django.contrib import admin

from shuanglian.admin_scope import ReadOnlyInline, ScopedAdmin

from .models import Demand, DemandAction, DemandDeadlines


class DemandActionInline(ReadOnlyInline):
    model = DemandAction
    fields = ["at", "kind", "from_level", "to_level", "by", "text"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return DemandAction.objects.select_related("by")  # the parent demand is already scoped


@admin.register(Demand)
class DemandAdmin(ScopedAdmin):
    """Read-only: demands change through the ledger pages, where every step writes its row."""

    deletable = False
    list_display = ["raised_on", "household", "category", "level", "status", "due_on"]
    list_filter = ["level", "status", "category"]
    search_fields = ["household__head_name", "text"]
    list_select_related = ["household"]
    inlines = [DemandActionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DemandDeadlines)
class DemandDeadlinesAdmin(ScopedAdmin):
    """Each county's office sets how long each level has to answer (access.WRITE_ROLES)."""

    deletable = False
    list_display = [
        "county",
        "cadre_days",
        "unit_days",
        "township_days",
        "county_days",
        "city_days",
        "province_days",
    ]
    list_select_related = ["county"]
