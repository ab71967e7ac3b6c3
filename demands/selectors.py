"""Reads of demands that more than one page, tag or command uses: the ledger's summary."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import urlencode

from shuanglian.access import is_unit_liaison, scope_prefix
from shuanglian.lib.cached_counts import count_or_cached

from .models import Demand, overdue_q


def get_demand_for_user(user, pk) -> Demand:
    """The demand if the user may see it, else 404."""
    return get_object_or_404(
        Demand.objects.visible_to(user)
        .select_related("household__village", "visit", "raised_by")
        .with_responsible_cadre(),
        pk=pk,
    )


def status_counts(demands):
    """Counts per status (and overdue, and in all) in one query, for the ledger's summary."""
    aggregates = {
        f"s{index}": Count("pk", filter=Q(status=value)) for index, value in enumerate(Demand.Status.values)
    }
    aggregates["overdue"] = Count("pk", filter=overdue_q())
    aggregates["total"] = Count("pk")
    figures = demands.order_by().aggregate(**aggregates)
    statuses = [
        (value, label, figures[f"s{index}"]) for index, (value, label) in enumerate(Demand.Status.choices)
    ]
    return statuses, figures["overdue"], figures["total"]


def ledger_summary(user, form, *, refresh: bool = False):
    """_status_counts for the filters other than status, and when they were counted: a city's or
    the province's pass over every demand comes from the cache (shuanglian.lib.cached_counts),
    anything narrower is counted live (counted_at None)."""
    scoped = Demand.objects.visible_to(user)
    prefix = None if is_unit_liaison(user) else scope_prefix(user)
    filters = form.cleaned_data if form.is_valid() else {}
    # "mine" depends on the user's level and "overdue" on the day, so both are in the key.
    key = "demands:" + urlencode(
        [
            ("role", user.role or ""),
            ("superuser", user.is_superuser),
            ("prefix", str(prefix)),
            ("today", timezone.localdate()),
            *sorted((name, value) for name, value in filters.items() if name != "status" and value),
        ]
    )
    return count_or_cached(
        key, prefix, lambda: status_counts(form.filter(scoped, user, skip_status=True)), refresh=refresh
    )


def household_demands(household):
    """A household's demands, newest first (its page and its timeline)."""
    return household.demands.order_by("-raised_on", "-pk")
