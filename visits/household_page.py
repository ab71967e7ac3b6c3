"""The household page's visit timeline and its 走访记录 / 录入走访 buttons, registered with
households.sections (households may not import visits)."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from households.sections import Link, Section
from shuanglian.access import may_enter_visits

from . import timeline
from .models import Visit

# The household page shows the latest visits; the full diary is one click away.
TIMELINE_LENGTH = 20


def _timeline(context, household) -> dict:
    visits = Visit.objects.filter(household=household).select_related("cadre__unit", "recorded_by")
    latest = list(timeline.with_extras(visits.order_by("-visited_on", "-pk")[: TIMELINE_LENGTH + 1]))
    counts = visits.order_by().aggregate(
        home=Count("pk", filter=Q(mode__in=Visit.HOME_MODES)),
        contact=Count("pk", filter=~Q(mode__in=Visit.HOME_MODES)),
    )
    return {
        "household": household,
        "visits": latest[:TIMELINE_LENGTH],
        "more": len(latest) > TIMELINE_LENGTH,
        "counts": counts,
        "extras": timeline.templates(),
    }


TIMELINE = Section(order=20, template="visits/visit_timeline.html", data=_timeline)
HOUSEHOLD_VISITS = Link(
    order=10, label=_("走访记录"), url=lambda household: reverse("visits:household", args=[household.pk])
)
NEW_VISIT = Link(
    order=20,
    label=_("录入走访"),
    url=lambda household: f"{reverse('visits:new')}?household={household.pk}",
    shown=lambda user, household: may_enter_visits(user),
)
