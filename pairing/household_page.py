"""The household page's 帮扶干部 section and the region page's coverage button, registered with
households.sections (households may not import pairing)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from households.sections import Link, Section
from shuanglian.access import can_write

from .models import Pairing


def _pairings(context, household) -> dict:
    pairings = household.pairings.select_related("cadre__unit").order_by("ended_on", "-started_on")
    user = context["user"]
    return {
        "household": household,
        "user": user,
        "current_pairings": [p for p in pairings if p.is_open],
        "past_pairings": [p for p in pairings if not p.is_open],
        "can_pair": can_write(user, Pairing),
    }


CADRES = Section(order=10, template="pairing/household_pairings.html", data=_pairings)
COVERAGE = Link(
    order=20,
    label=_("联户覆盖情况"),
    url=lambda region: reverse("pairing:coverage_region", args=[region.code]),
)
