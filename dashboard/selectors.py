"""The home page's reads: the figures of the user's scope, from the indicator catalogue."""

from django.db.models import Count

from households.models import Region
from shuanglian import indicators
from shuanglian.access import is_unit_liaison, scope_prefix
from shuanglian.lib.cached_counts import count_or_cached

# What the home page shows of an office's region, in order; a unit liaison's home shows its unit's
# own figures (its villages, the households there or paired with its cadres, its cadres).
REGION_KEYS = ("households", "poor", "unpaired", "cadres", "cadres_helping", "villages", "poor_villages")
UNIT_KEYS = ("households", "poor", "unpaired", "cadres", "villages", "poor_villages")


def home_keys(user) -> tuple[str, ...]:
    return UNIT_KEYS if is_unit_liaison(user) else REGION_KEYS


def scope_counts(user) -> dict:
    """The home page's figures for the user's scope, keyed as the catalogue keys them."""
    return indicators.values(home_keys(user), indicators.Scope.for_user(user))


def scope_counts_cached(user, *, refresh: bool = False):
    """scope_counts and when they were counted (cached for a city or the province)."""
    prefix = scope_prefix(user)
    return count_or_cached(f"home:v2:{prefix}", prefix, lambda: scope_counts(user), refresh=refresh)


def linked_villages(user):
    """A unit liaison's villages, each with its household count."""
    return (
        Region.objects.visible_to(user)
        .villages()
        .annotate(household_count=Count("households"))
        .order_by("code")
    )
