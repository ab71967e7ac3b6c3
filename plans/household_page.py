"""The household page's plan card and the poor village's 村帮扶计划 button, registered with
households.sections (households may not import plans)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from households.sections import Link, Section
from shuanglian.access import can_write

from .models import HouseholdPlan


def _plan(context, household) -> dict:
    """The household's latest plan (it follows the household, whoever its cadre is)."""
    plan = (
        HouseholdPlan.objects.filter(household=household)
        .select_related("updated_by")
        .order_by("-year")
        .first()
    )
    can_edit = can_write(context["request"].user, HouseholdPlan)
    return {"household": household, "plan": plan, "can_edit": can_edit}


PLAN = Section(order=30, template="plans/household_plan_card.html", data=_plan)
VILLAGE_PLAN = Link(
    order=10,
    label=_("村帮扶计划"),
    url=lambda region: reverse("plans:village", args=[region.code]),
    shown=lambda user, region: region.level == "village" and region.is_poor,
)
