"""Reads of pairing that more than one page, tag or command uses."""

from django.shortcuts import get_object_or_404

from households.models import Region
from households.selectors import child_rows
from shuanglian.lib.cached_counts import count_or_cached

from .indicators import rate
from .models import Cadre

# The coverage page's figures, in the order of its table (coverage_rate is derived from two of them).
COVERAGE_KEYS = (
    "poor",
    "paired",
    "unpaired",
    "poor_villages",
    "poor_villages_without_unit",
    "cadres",
    "cadres_helping",
    "cadres_paired",
    "cadres_over",
    "cadres_under",
    "units",
    "units_without_village",
)

# Figures that are the sum of two others the page counts anyway, by their definitions: a poor
# household on the register is paired or unpaired, a poor village has a unit or has none. Adding
# them up spares a second pass over every household and every village (issue 18).
DERIVED_KEYS = {
    "poor": ("paired", "unpaired"),
    "poor_villages": ("poor_villages_with_unit", "poor_villages_without_unit"),
}
COUNTED_KEYS = (
    *(key for key in COVERAGE_KEYS if key not in DERIVED_KEYS),
    "poor_villages_with_unit",
)


def get_cadre_for_user(user, pk) -> Cadre:
    """The cadre if the user may see it, else 404."""
    return get_object_or_404(Cadre.objects.visible_to(user).select_related("unit__region"), pk=pk)


def openable_cadre_ids(user, ids) -> set[int]:
    """Which of these cadres `user` may open (one query): the others are shown by name only."""
    return set(Cadre.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def coverage_rows(region: Region, children: list[Region]) -> tuple[list[dict], dict, dict]:
    """The coverage figures per child region, the 本级 row (units seated at the region's own level
    and their cadres) and the region's totals: one query per indicator batch, whatever the scope.
    Additive figures in the rows and 本级 add up to the totals."""
    rows, own, totals = child_rows(region, children, COUNTED_KEYS)
    for row in [*rows, own, totals]:
        for key, parts in DERIVED_KEYS.items():
            row[key] = sum(row.get(part) or 0 for part in parts)
        row.pop("poor_villages_with_unit", None)  # a part only, not a column of the page
    for row in [*rows, totals]:
        row["coverage_rate"] = rate(row["paired"], row["poor"])
    return rows, own, totals


def coverage_rows_cached(region: Region, children: list[Region], *, refresh: bool = False):
    """coverage_rows, plus when they were counted: province and city figures come from the cache
    (shuanglian.lib.cached_counts; None for a county or below, which is always counted live)."""
    (rows, own, totals), counted_at = count_or_cached(
        f"coverage:v2:{region.code}", region.prefix, lambda: coverage_rows(region, children), refresh=refresh
    )
    return rows, own, totals, counted_at
