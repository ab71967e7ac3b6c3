"""A monthly report's figures: read from the indicator catalogue, for the month and the year to date,
for the office and for each office reporting to it. Never typed, never counted here.

The present-state figures (households, villages, cadres) are the households and pairing apps'
indicators; where the catalogue does not hold them yet, they are read from the coverage counts
(pairing/coverage.py per_child), which count them the same way for a region.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from shuanglian import indicators
from shuanglian.access import LEVEL_DIGITS
from shuanglian.indicators import Period, Scope

from .offices import CHILD_LEVEL, Office, children

# The present state (no period): counted as of the moment the report is computed.
PRESENT = [
    "villages_linked",
    "villages_unlinked",
    "households_poor",
    "households_paired",
    "households_unpaired",
    "cadres_active",
    "cadres_paired",
    "cadres_over_limit",
    "households_away",
    "households_floor_alert",
    "demands_open",
]
# Figures of the month; those in YEAR are also shown for the year to date.
MONTH = [
    "visits_home",
    "visits_contact",
    "households_contacted",
    "households_not_contacted_quarter",
    "unit_visits",
    "households_away_contacted",
    "demands_raised",
    "demands_resolved",
    "demands_explained",
    "demands_overdue",
    "demands_overdue_cadre",
    "demands_overdue_unit",
    "demands_overdue_township",
    "demands_overdue_county",
    "demands_overdue_city",
    "demands_overdue_province",
    "help_cash",
    "help_goods_value",
    "villages_planned",
    "households_planned",
]
YEAR = [
    "visits_home",
    "visits_contact",
    "households_contacted",
    "unit_visits",
    "demands_raised",
    "demands_resolved",
    "demands_explained",
    "help_cash",
    "help_goods_value",
]
# The figures of a unit's own work shown on its row of the office above.
UNIT_ROW = ["visits_home", "visits_contact", "households_contacted", "unit_visits", "help_cash"]
# The figures each row of a region shows (the office's table below its own figures).
REGION_ROW = [
    "households_poor",
    "households_paired",
    "households_unpaired",
    "visits_home",
    "visits_contact",
    "households_contacted",
    "unit_visits",
    "demands_raised",
    "demands_resolved",
    "demands_overdue",
    "help_cash",
]

# The coverage counts standing in for present-state indicators not (yet) in the catalogue.
_COVERAGE = {
    "households_poor": ("poor", True),
    "households_paired": ("paired", True),
    "households_unpaired": ("unpaired", True),
    "villages_unlinked": ("poor_villages_without_unit", True),
    "cadres_active": ("cadres", True),
    "cadres_paired": ("cadres_helping", False),
    "cadres_over_limit": ("cadres_over", True),
}
_FALLBACK_NAMES = {
    "households_poor": ("在册贫困户", "当前在册的一般贫困户、低保户、五保户、低保贫困户户数"),
    "households_paired": ("已结对贫困户", "在册贫困户中当前有责任帮扶干部的户数"),
    "households_unpaired": ("未结对贫困户", "在册贫困户中当前没有责任帮扶干部的户数"),
    "villages_linked": ("已联系贫困村", "当前有帮扶单位联系的贫困村数"),
    "villages_unlinked": ("未联系贫困村", "当前没有帮扶单位联系的贫困村数"),
    "cadres_active": ("在岗干部", "所在地单位在岗、须结对的干部人数（按单位所在地计）"),
    "cadres_paired": ("已结对干部", "当前在本区域有结对户的干部人数（一人帮多地只计一次，不可加总）"),
    "cadres_over_limit": ("超出结对上限的干部", "结对户数超过所在县规定上限的干部人数"),
}


def month_start(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, 1)


def names() -> dict[str, tuple[str, str, str]]:
    """Each figure's Chinese name, definition and unit, for the page (catalogue first)."""
    found = {}
    for key in PRESENT + MONTH:
        try:
            indicator = indicators.get(key)
            found[key] = (indicator.name, indicator.definition, indicator.unit)
        except KeyError:
            name, definition = _FALLBACK_NAMES.get(key, (key, ""))
            found[key] = (
                name,
                definition,
                "个" if key.startswith("villages") else "户" if "house" in key else "人",
            )
    return found


def additive(key: str) -> bool:
    try:
        return indicators.get(key).additive
    except KeyError:
        return _COVERAGE.get(key, ("", True))[1]


def plain(value):
    """A figure as stored in JSON and compared: whole numbers as int, money as a 2-place string."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


class _Coverage:
    """The coverage counts of a region and its children, counted once per report."""

    def __init__(self, office: Office, child_regions):
        self.totals, self.rows = {}, {}
        if office.region is None:
            return
        from pairing.coverage import per_child

        region = office.region
        rows, totals = per_child(region, list(child_regions))
        self.totals = self._figures(totals)
        self.rows = {row["region"].code: self._figures(row) for row in rows}

    @staticmethod
    def _figures(row) -> dict:
        figures = {key: row[source] for key, (source, _additive) in _COVERAGE.items()}
        figures["villages_linked"] = row["poor_villages"] - row["poor_villages_without_unit"]
        return figures


def _value(key: str, scope: Scope, period: Period | None, coverage: dict):
    try:
        indicator = indicators.get(key)
    except KeyError:
        return coverage.get(key)
    return indicator.count(scope, period)


def compute(office: Office, month: datetime.date) -> dict:
    """The report's figures as stored when approved: {"month", "year", "rows", "computed_at"}."""
    period = Period.month(month.year, month.month)
    ytd = period.year_to_date()
    below = children(office)
    child_regions = [child.region for child in below if child.region]
    coverage = _Coverage(office, child_regions)
    scope = office.scope
    figures = {
        "month": {key: plain(_value(key, scope, None, coverage.totals)) for key in PRESENT},
        "year": {key: plain(_value(key, scope, ytd, coverage.totals)) for key in YEAR},
        "rows": [],
        "computed_at": timezone.now().isoformat(timespec="seconds"),
    }
    figures["month"] |= {key: plain(_value(key, scope, period, coverage.totals)) for key in MONTH}
    if child_regions:
        figures["rows"] += _region_rows(office, child_regions, period, coverage)
    for child in below:
        if child.unit:
            values = {key: plain(indicators.value(key, child.scope, period)) for key in UNIT_ROW}
            figures["rows"].append(
                {"office": child.key, "name": child.name, "kind": "unit", "values": values}
            )
    return figures


def _region_rows(office: Office, child_regions, period: Period, coverage: _Coverage) -> list[dict]:
    digits = LEVEL_DIGITS[CHILD_LEVEL[office.level]]
    per_key = {}
    for key in REGION_ROW:
        try:
            indicator = indicators.get(key)
        except KeyError:
            per_key[key] = {code: figures.get(key) for code, figures in coverage.rows.items()}
            continue
        when = None if key in PRESENT else period
        if indicator.rows is not None:
            per_key[key] = indicator.rows(office.scope, when, digits)
        else:
            per_key[key] = {
                region.code: indicator.count(Scope(prefix=region.code[:digits]), when)
                for region in child_regions
            }
    return [
        {
            "office": region.code,
            "name": region.name,
            "kind": "region",
            "values": {key: plain(per_key[key].get(region.code, _zero(key))) for key in REGION_ROW},
        }
        for region in child_regions
    ]


def _zero(key: str):
    return Decimal("0.00") if key.startswith("help") else 0


def row_totals(figures: dict) -> dict:
    """The sum of the region rows for each additive row figure (the page's 合计 row)."""
    totals = {}
    for key in REGION_ROW:
        if not additive(key):
            continue
        values = [row["values"].get(key) for row in figures["rows"] if row["kind"] == "region"]
        if any(value is None for value in values):
            continue
        if key.startswith("help"):
            totals[key] = f"{sum(Decimal(v) for v in values):.2f}"
        else:
            totals[key] = sum(values)
    return totals


def differences(approved: dict, current: dict) -> dict[str, tuple]:
    """The month's and year's figures that changed since approval: {"month:key": (approved, now)}."""
    changed = {}
    for part in ("month", "year"):
        for key, value in current.get(part, {}).items():
            before = approved.get(part, {}).get(key)
            if before != value:
                changed[f"{part}:{key}"] = (before, value)
    return changed
