from django import template
from django.utils import timezone

from demands.forms import RaiseDemandForm
from shuanglian.access import may_raise_demand

register = template.Library()


@register.inclusion_tag("demands/household_demands.html", takes_context=True)
def household_demands(context, household):
    """A household's demands for its page, and the form to raise one for those who may
    (the page has already scoped the household to the user)."""
    return {
        "household": household,
        "demands": household.demands.order_by("-raised_on", "-pk"),
        "today": timezone.localdate(),
        "raise_form": RaiseDemandForm() if may_raise_demand(context["user"]) else None,
        "csrf_token": context.get("csrf_token"),
    }
