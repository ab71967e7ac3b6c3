"""Reads of places and households that more than one page, tag or command uses."""

from django.shortcuts import get_object_or_404

from shuanglian import indicators
from shuanglian.access import LEVEL_DIGITS

from .choices import PROVINCE_CODE
from .models import Household, Region


def get_household_for_user(user, pk) -> Household:
    """The household if the user may see it, else 404 (never tell outsiders it exists)."""
    return get_object_or_404(Household.objects.visible_to(user).select_related("village"), pk=pk)


def start_region(user, code: str | None) -> Region:
    """The region a drill-down page opens at: the one asked for (`code`), else the user's own
    (the province for a superuser); 404 outside the user's scope."""
    if code is None:
        code = PROVINCE_CODE if user.is_superuser else user.region_id
    return get_object_or_404(Region.objects.visible_to(user), code=code)


def region_scope(region: Region) -> indicators.Scope:
    return indicators.Scope.for_region(region.code, LEVEL_DIGITS[region.level])


def child_digits(region: Region, children: list[Region]) -> int:
    """How many leading digits of a code name a child of the region (its own, without children)."""
    return LEVEL_DIGITS[children[0].level] if children else len(region.prefix)


def child_rows(region: Region, children: list[Region], keys) -> tuple[list[dict], dict, dict]:
    """The figures of `keys` per child region, what is seated at the region's own level (本级:
    its units and their cadres, for the figures grouped by a unit's seat), and the region's totals,
    from one query per indicator batch.

    Each row is {"region": child, key: figure…}. Additive figures total the rows and 本级;
    the others (indicator.additive False) are counted again over the whole region.
    """
    scope = region_scope(region)
    table = indicators.table(keys, scope, None, child_digits(region, children))
    rows = [
        {"region": child} | {key: table.get(child.prefix, {}).get(key, 0) for key in keys}
        for child in children
    ]
    own = indicators.own_level(table, [child.prefix for child in children])
    additive = [key for key in keys if indicators.get(key).additive]
    totals = {key: sum((row.get(key) or 0) for row in table.values()) for key in additive}
    whole = [key for key in keys if key not in totals]
    totals |= indicators.values(whole, scope) if whole else {}
    totals["region"] = region
    return rows, {key: own.get(key, 0) for key in additive}, totals


REGION_KEYS = ("villages", "poor_villages", "households", "poor", "households_lifted")


def region_rows(region: Region, children: list[Region]) -> tuple[list[dict], dict]:
    """The region page's rows (villages and households per child) and the region's totals."""
    rows, _own, totals = child_rows(region, children, REGION_KEYS)
    return rows, totals
