"""The household page's visit timeline, rendered by this app so that households need not import visits."""

from django import template
from django.db.models import Count, Q

from visits import timeline
from visits.models import Visit

register = template.Library()

# The household page shows the latest visits; the full diary is one click away.
TIMELINE_LENGTH = 20


@register.inclusion_tag("visits/visit_timeline.html")
def visit_timeline(household):
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
