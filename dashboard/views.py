from django.contrib.auth.decorators import login_required
from django.db.models import Count, FilteredRelation, Q
from django.shortcuts import render
from django.utils import timezone

from households.choices import POOR_CATEGORIES
from households.models import Household, Region
from pairing.models import Cadre, Pairing
from shuanglian.access import is_unit_liaison, scope_prefix
from shuanglian.lib.cached_counts import count_or_cached

from . import todo


def scope_counts(user) -> dict:
    """Households, poor, unpaired poor, active cadres and villages in the user's scope."""
    # One pass: a LEFT JOIN on the (unique) open responsible pairing counts the unpaired.
    households = (
        Household.objects.visible_to(user)
        .annotate(
            responsible=FilteredRelation(
                "pairings",
                condition=Q(pairings__ended_on__isnull=True, pairings__role=Pairing.Role.RESPONSIBLE),
            )
        )
        .aggregate(
            total=Count("pk"),
            # Poor households on the register, as the coverage page counts them (已脱贫 left out).
            poor=Count("pk", filter=Q(category__in=POOR_CATEGORIES, status="在册")),
            unpaired_poor=Count(
                "pk", filter=Q(category__in=POOR_CATEGORIES, status="在册", responsible__isnull=True)
            ),
        )
    )
    villages = Region.objects.visible_to(user).villages()
    return {
        "households": households,
        "unpaired_poor": households["unpaired_poor"],
        "cadres": Cadre.objects.visible_to(user).active().count(),
        "villages": villages.aggregate(total=Count("code"), poor=Count("code", filter=Q(is_poor=True))),
    }


def scope_counts_cached(user, *, refresh: bool = False):
    """scope_counts and when they were counted (cached for a city or the province)."""
    prefix = scope_prefix(user)
    return count_or_cached(f"home:{prefix}", prefix, lambda: scope_counts(user), refresh=refresh)


@login_required
def home(request):
    """The user's scope at a glance, with the way into each list."""
    user = request.user
    counts, counted_at = scope_counts_cached(user, refresh="refresh" in request.GET)
    linked_villages = None
    if is_unit_liaison(user):
        linked_villages = (
            Region.objects.visible_to(user)
            .villages()
            .annotate(household_count=Count("households"))
            .order_by("code")
        )
    context = {
        **counts,
        "counted_at": counted_at,
        "linked_villages": linked_villages,
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
