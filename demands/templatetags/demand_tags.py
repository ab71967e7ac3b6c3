from django import template
from django.utils import timezone

from demands import selectors
from demands.forms import RaiseDemandForm
from demands.services import may_raise

register = template.Library()


@register.inclusion_tag("demands/household_demands.html", takes_context=True)
def household_demands(context, household):
    """A household's demands for its page, and the form to raise one for those who may
    (the page has already scoped the household to the user)."""
    return {
        "household": household,
        "demands": selectors.household_demands(household),
        "today": timezone.localdate(),
        "raise_form": RaiseDemandForm() if may_raise(context["user"]) else None,
        "csrf_token": context.get("csrf_token"),
    }
