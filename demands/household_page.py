"""The household page's demands and the form to raise one, registered with households.sections
(households may not import demands)."""

from django.utils import timezone

from households.sections import Section
from shuanglian.access import may_raise_demand

from . import selectors
from .forms import RaiseDemandForm


def _demands(context, household) -> dict:
    """A household's demands for its page, and the form to raise one for those who may
    (the page has already scoped the household to the user)."""
    return {
        "household": household,
        "demands": selectors.household_demands(household),
        "today": timezone.localdate(),
        "raise_form": RaiseDemandForm() if may_raise_demand(context["user"]) else None,
        "csrf_token": context.get("csrf_token"),
    }


DEMANDS = Section(order=40, template="demands/household_demands.html", data=_demands)
