from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from shuanglian.admin_scope import ReadOnlyInline, ScopedAdmin

from .models import HouseholdPlan, HouseholdPlanVersion, VillagePlan, VillagePlanVersion


class VersionInline(ReadOnlyInline):
    """A plan's versions, newest first, each with what it held: the record of what was promised."""

    fields = ["number", "changed_by", "changed_at", "changes", "content"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The parent plan is already scoped (PlanAdmin); the inline only adds who made each version.
        return self.model.objects.select_related("changed_by")

    @admin.display(description=_("修改的项目"))
    def changes(self, version):
        return _("制定计划") if version.number == 1 else "、".join(version.changed_labels)

    @admin.display(description=_("内容"))
    def content(self, version):
        plan_model = self.model._meta.get_field("plan").related_model
        return format_html_join(
            "",
            "<div><strong>{}</strong>：{}</div>",
            (
                (plan_model._meta.get_field(name).verbose_name, _display(value))
                for name, value in version.data.items()
            ),
        )


def _display(value) -> str:
    if isinstance(value, list):
        return (
            "、".join(
                " ".join(str(part) for part in item.values()) if isinstance(item, dict) else str(item)
                for item in value
            )
            or "—"
        )
    return "—" if value in (None, "") else str(value)


class VillagePlanVersionInline(VersionInline):
    model = VillagePlanVersion


class HouseholdPlanVersionInline(VersionInline):
    model = HouseholdPlanVersion


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
    inlines = [VillagePlanVersionInline]


@admin.register(HouseholdPlan)
class HouseholdPlanAdmin(PlanAdmin):
    list_display = ["household", "year", "version", "updated_by", "updated_at"]
    list_filter = ["year"]
    search_fields = ["household__head_name"]
    list_select_related = ["household", "updated_by"]
    inlines = [HouseholdPlanVersionInline]
