"""A monthly report's figures: read from the indicator catalogue, for the month and the year to date,
for the office and for each office reporting to it. Never typed, never counted here.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from shuanglian import indicators
from shuanglian.access import LEVEL_DIGITS
from shuanglian.indicators import Period
from visits.indicators import tally_by_unit

from .offices import CHILD_LEVEL, Office, children

# The present state (no period): counted as of the moment the report is computed.
PRESENT = [
    "poor_villages_with_unit",
    "poor_villages_without_unit",
    "poor",
    "paired",
    "unpaired",
    "cadres",
    "cadres_paired",
    "cadres_over",
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
# (Households reached are not summed over months: one household visited each month is one.)
YEAR = [
    "visits_home",
    "visits_contact",
    "unit_visits",
    "demands_raised",
    "demands_resolved",
    "demands_explained",
    "help_cash",
    "help_goods_value",
]
# The figures of a unit's own work shown on its row of the office above: the visit tallies'
# indicators, read for all the units at once (visits.indicators.tally_by_unit).
UNIT_ROW = ["visits_home", "visits_contact", "households_contacted", "unit_visits", "help_cash"]
# The figures each row of a region shows (the office's table below its own figures).
REGION_ROW = [
    "poor",
    "paired",
    "unpaired",
    "visits_home",
    "visits_contact",
    "households_contacted",
    "unit_visits",
    "demands_raised",
    "demands_resolved",
    "demands_overdue",
    "help_cash",
]

# The command's JSON names for catalogue keys whose own names are short (kept stable as an interface).
JSON_NAMES = {"poor": "households_poor", "paired": "households_paired", "unpaired": "households_unpaired"}


def names() -> dict[str, tuple[str, str, str]]:
    """Each figure's Chinese name, definition and unit, for the page."""
    found = {}
    for key in PRESENT + MONTH:
        indicator = indicators.get(key)
        found[key] = (str(indicator.name), str(indicator.definition), str(indicator.unit))
    return found


def additive(key: str) -> bool:
    return indicators.get(key).additive


def plain(value):
    """A figure as stored in JSON and compared: whole numbers as int, money as a 2-place string."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _plain_all(values: dict) -> dict:
    return {key: plain(value) for key, value in values.items()}


# Present-state figures whose batch counts them in any period too (the demand batch: open demands by
# status, no date), so they are read from the month's batch, which runs anyway: one pass over the
# province's demands less (issue 13). tests/test_reports_figures.py pins the count and the figures.
FROM_MONTH_BATCH = ["demands_open"]


def compute(office: Office, month: datetime.date) -> dict:
    """The report's figures as stored when approved: {"month", "year", "rows", "computed_at"}.
    Each batch of the catalogue runs once per scope and period."""
    period = Period.month(month.year, month.month)
    scope = office.scope
    below = children(office)
    child_regions = [child.region for child in below if child.region]
    rows, summed = [], {}
    if child_regions:
        rows, summed = _region_rows(office, child_regions, period)
    present = [key for key in PRESENT if key not in FROM_MONTH_BATCH and key not in summed]
    month_values = (
        indicators.values(present, scope, None)
        | indicators.values([key for key in MONTH + FROM_MONTH_BATCH if key not in summed], scope, period)
        | summed
    )
    figures = {
        "month": _plain_all({key: month_values[key] for key in PRESENT + MONTH}),
        "year": _plain_all(indicators.values(YEAR, scope, period.year_to_date())),
        "rows": rows,
        "computed_at": timezone.now().isoformat(timespec="seconds"),
    }
    units = [child for child in below if child.unit]
    per_unit = tally_by_unit([child.unit.pk for child in units], period) if units else {}
    for child in units:
        values = {key: plain(per_unit[child.unit.pk][key]) for key in UNIT_ROW}
        figures["rows"].append({"office": child.key, "name": child.name, "kind": "unit", "values": values})
    return figures


# A row figure that is the sum of two others of the rows: 在册贫困户 are the paired ones and the
# unpaired ones, both counted over the poor households on the register in one pass of the pairing
# coverage rows (pairing/indicators.py: paired = poor − unpaired), so the rows need no second pass
# over the households for it (issue 13). The total and each row are compared with the catalogue's
# own figure in tests/test_reports_figures.py.
SUM_OF_PARTS = {"poor": ("paired", "unpaired")}


def _region_rows(office: Office, child_regions, period: Period) -> tuple[list[dict], dict]:
    """The rows of the child regions, and the office's own figures that those rows' batches hold
    too, summed over the rows (see _summed_keys)."""
    digits = LEVEL_DIGITS[CHILD_LEVEL[office.level]]
    present = [key for key in REGION_ROW if key in PRESENT and key not in SUM_OF_PARTS]
    spans = [key for key in REGION_ROW if key not in PRESENT]
    present_sums, span_sums = _summed_keys(present, PRESENT), _summed_keys(spans, MONTH + FROM_MONTH_BATCH)
    per_child = indicators.table(present + present_sums, office.scope, None, digits)
    for child, values in indicators.table(spans + span_sums, office.scope, period, digits).items():
        per_child.setdefault(child, {}).update(values)
    derived = [key for key in SUM_OF_PARTS if key in REGION_ROW]
    for values in per_child.values():
        for key in derived:
            values[key] = sum(values.get(part, 0) for part in SUM_OF_PARTS[key])
    present_sums += derived
    rows = []
    for region in child_regions:
        values = per_child.get(region.code[:digits], {})
        rows.append(
            {
                "office": region.code,
                "name": region.name,
                "kind": "region",
                "values": {key: plain(values.get(key, _zero(key))) for key in REGION_ROW},
            }
        )
    # Every entry of the table, a child's or one seated at the office's own level, adds up to the
    # total of an additive figure (shuanglian.indicators.own_level).
    summed = {}
    for key in present_sums + span_sums:
        summed[key] = sum((values[key] for values in per_child.values() if key in values), _zero(key))
    return rows, summed


def _summed_keys(row_keys: list[str], wanted: list[str]) -> list[str]:
    """The additive figures of ``wanted`` that a batch of the rows of ``row_keys`` counts per child
    anyway: the office's own figure is their sum, not another pass over the same records (on the
    province's report, a pass over all 400k households or all open demands each, issue 13)."""
    run = {indicators.get(key).batch_rows for key in row_keys} - {None}
    return [key for key in wanted if indicators.get(key).batch_rows in run and indicators.get(key).additive]


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
