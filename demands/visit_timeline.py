"""The demands raised in each visit, under it on the household's timeline (registered with
visits.timeline)."""

from django.db.models import Prefetch

from visits.timeline import TimelineExtra

from .models import Demand


def _prefetch():
    return Prefetch("demands", queryset=Demand.objects.order_by("pk"), to_attr="raised_demands")


RAISED_DEMANDS = TimelineExtra(template="demands/visit_timeline_demands.html", prefetch=_prefetch)
