from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from shuanglian import indicators
from shuanglian.access import is_unit_liaison

from . import selectors, todo


@login_required
def home(request):
    """The user's scope at a glance, with the way into each list."""
    user = request.user
    counts, counted_at = selectors.scope_counts_cached(user, refresh="refresh" in request.GET)
    context = {
        "figures": counts,
        "indicators": {key: indicators.get(key) for key in selectors.home_keys(user)},
        "counted_at": counted_at,
        "linked_villages": selectors.linked_villages(user) if is_unit_liaison(user) else None,
        "scope_region": user.region,
        "todo": todo.items(user, timezone.localdate()),
    }
    return render(request, "home.html", context)


INBOX_ROWS = 50  # each section shows the oldest rows; its full list is one link away


@login_required
def inbox(request):
    """待办事项: what waits for the user's office, section by section, with the home page's counts."""
    user = request.user
    items = todo.items(user, timezone.localdate())
    shown = {item.key for item in items}
    proposals = handovers = None
    if "proposals" in shown:
        proposals = list(
            todo.proposals_to_review(user)
            .select_related("region", "proposed_by")
            .annotate(households=Count("lines"))
            .order_by("proposed_at", "pk")[:INBOX_ROWS]
        )
    if "handovers" in shown:
        handovers = list(
            todo.handovers_waiting(user)
            .select_related("cadre__unit")
            .order_by("effective_on", "pk")[:INBOX_ROWS]
        )
    context = {"todo": items, "proposals": proposals, "handovers": handovers}
    return render(request, "dashboard/inbox.html", context)
