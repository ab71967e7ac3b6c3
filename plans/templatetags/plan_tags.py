"""The household page's plan section, rendered by this app so that households need not import plans."""

from django import template

from shuanglian.access import can_write

from ..models import HouseholdPlan

register = template.Library()


@register.inclusion_tag("plans/household_plan_card.html", takes_context=True)
def household_plan(context, household):
    """The household's latest plan (it follows the household, whoever its cadre is)."""
    plan = (
        HouseholdPlan.objects.filter(household=household)
        .select_related("updated_by")
        .order_by("-year")
        .first()
    )
    can_edit = can_write(context["request"].user, HouseholdPlan)
    return {"household": household, "plan": plan, "can_edit": can_edit}
