from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("demands/household_demands.html")
def household_demands(household):
    """A household's demands for its page (the page has already scoped the household)."""
    return {
        "household": household,
        "demands": household.demands.order_by("-raised_on", "-pk"),
        "today": timezone.localdate(),
    }
