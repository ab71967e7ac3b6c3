"""Quarterly dispatch (季调度): an office ranks the counties, townships and units below it.

Four indicators of the quarter, each a rate in percent, are defined here once and registered in
the indicator catalogue (shuanglian/indicators.py), so the bulletin, the annual summary and any
other page read the same figure. Each is computed per child region (one GROUP BY over the scope's
households, pairings or demands) and per unit (one GROUP BY over the units' pairings or links), as
two counts (done, total); the rate is done / total.

The ranking rule (shown on the page, RULE): the score is the plain mean of the four rates a row
has (a rate with nothing to count is left out); rows rank by score, then by contact rate, then by
code or name; a row with no rate at all is listed unranked at the end. The last five ranked
(or the last one, where five or fewer rank) are marked 后五名. The movement is the rank last
quarter minus the rank this quarter (positive: moved up).
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from demands.models import Demand, DemandAction
from households.choices import POOR_CATEGORIES, HouseholdStatus
from households.models import Household, Region
from pairing.models import Pairing, Unit, VillageLink
from shuanglian import indicators
from shuanglian.access import LEVEL_DIGITS
from shuanglian.indicators import Indicator, Period, Scope
from shuanglian.lib import params
from shuanglian.lib.cached_counts import count_or_cached
from shuanglian.lib.codes import prefix_range_q
from visits import tallies as visit_tallies
from visits import worklists
from visits.models import UnitVisit, Visit

RULE = _(
    "综合得分为走访联系率、走访任务完成率、诉求按期办结率、结对覆盖率四项的算术平均（某项无统计对象时不计入）；"
    "按综合得分从高到低排名，得分相同时按走访联系率，再按代码或名称；四项均无统计对象的不参加排名。"
    "后五名（参加排名不足六个时为最后一名）标注提示。名次变化为上季度名次减本季度名次，正数为上升。"
)
LAST_MARKED = 5


# --- The quarter -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def of(cls, day: datetime.date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, raw, *, default: "Quarter") -> "Quarter":
        """'2026-Q3' from a query string or form (shuanglian/lib/params.py), else `default`."""
        parsed = params.parse_quarter(raw)
        return cls(*parsed) if parsed else default

    @property
    def period(self) -> Period:
        return Period.quarter(self.year, self.number)

    @property
    def previous(self) -> "Quarter":
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year - 1, 4)

    @property
    def next(self) -> "Quarter":
        return Quarter(self.year, self.number + 1) if self.number < 4 else Quarter(self.year + 1, 1)

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.number - 1]}季度"

    def __str__(self):
        return f"{self.year}-Q{self.number}"


def as_of(period: Period) -> datetime.date:
    """The last day counted: the period's last day, or today while it runs."""
    return min(period.end - datetime.timedelta(days=1), timezone.localdate())


# --- Counts per group: (done, total) ------------------------------------------------------------
# `digits` groups by child region (that many digits of the village code); `units` groups by unit.
# Neither: one group, keyed "".

Counts = dict[str, tuple[int, int]]


def _count_by_group(queryset, key_expression) -> dict[str, int]:
    rows = queryset.annotate(group_key=key_expression).values("group_key").annotate(n=Count("pk")).order_by()
    return {str(row["group_key"]): row["n"] for row in rows}


def _grouped(queryset, key_expression, done: Q, *, not_done: bool = False) -> Counts:
    """(done, total) per group, as two grouped counts: all rows, and the rows matching `done` (or,
    with not_done, the rows matching `done` are the ones NOT done: done = total - matches).

    The condition goes in WHERE, never in COUNT(...) FILTER: there PostgreSQL plans an IN
    (subquery) as a semi-join (one hash), while in a FILTER it is a subplan that, once the subquery
    outgrows work_mem (a quarter's visits at the province), is re-read for every row."""
    totals = _count_by_group(queryset, key_expression)
    matches = _count_by_group(queryset.filter(done), key_expression)
    if not_done:
        return {key: (total - matches.get(key, 0), total) for key, total in totals.items()}
    return {key: (matches.get(key, 0), total) for key, total in totals.items()}


def _joined(rows, key_expression, hits, on: dict[str, str], done: str, carry=()) -> Counts:
    """(done, total) per group in one pass: `rows` LEFT JOINed to `hits` (a queryset with one row
    per key at most) on the columns `on` ({rows' column: hits' column}); `done` is an SQL condition
    over `r` (the row, with its columns `carry`) and `h` (its hit, NULLs where none). Both sides are
    read once, as hashes at the province: half the work of _grouped's two counts, no subplan per row."""
    rows = rows.annotate(group_key=key_expression).values("group_key", *on, *carry).order_by()
    rows_sql, rows_params = rows.query.sql_with_params()
    hits_sql, hits_params = hits.query.sql_with_params()
    join = " AND ".join(f"h.{theirs} = r.{mine}" for mine, theirs in on.items())
    sql = (
        f"SELECT r.group_key, COUNT(*), SUM(CASE WHEN {done} THEN 1 ELSE 0 END) "
        f"FROM ({rows_sql}) r LEFT JOIN ({hits_sql}) h ON {join} GROUP BY r.group_key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*rows_params, *hits_params))
        return {str(key): (int(matched or 0), total) for key, total, matched in cursor.fetchall()}


def _region_key(field_name: str, digits: int | None):
    return Substr(field_name, 1, digits) if digits else Value("")


def _pairings_in_force(period: Period):
    return Pairing.objects.on(as_of(period))


def _visited_households(period: Period, *, prefix: str = "", households=None):
    """The households visited or contacted (any mode, any cadre) in the period up to its last day
    counted, within a region or among `households`, as an IN subquery that PostgreSQL hashes once
    rather than probing each household's rows.

    A quarter or month is whole months: read from the yearly visit tallies' month columns (a pass
    over ~400k tally rows at the province, not over a quarter's ~1.2M visits); any other span
    from a range scan of the visit-date index."""
    end = as_of(period)
    reached = visit_tallies.reached(period.start, end)
    if reached is not None:
        return reached.values("household_id")
    visits = Visit.objects.filter(visited_on__gte=period.start, visited_on__lte=end)
    if households is not None:
        visits = visits.filter(household_id__in=households)
    else:
        visits = visits.filter(prefix_range_q("household__village_id", prefix))
    return visits.values("household_id")


def contact_counts(prefix: str, period: Period, *, digits=None, units=None) -> Counts:
    """走访联系率: households on the register with a pairing in force on the last day that were visited
    or contacted (any mode, any cadre) in the period, of those households. For units: the unit's
    pairings in force whose household was visited or contacted in the period."""
    if units is not None:
        pairings = _pairings_in_force(period).filter(cadre__unit_id__in=units)
        visited = _visited_households(period, households=pairings.values("household_id"))
        return _grouped(pairings, F("cadre__unit_id"), Q(household_id__in=visited))
    paired = _pairings_in_force(period).values("household_id")
    households = Household.objects.filter(
        prefix_range_q("village_id", prefix), status=HouseholdStatus.REGISTERED, pk__in=paired
    )
    visited = _visited_households(period, prefix=prefix)
    return _grouped(households, _region_key("village_id", digits), Q(pk__in=visited))


class _Office:
    """The scope of a count as the worklists read it from a user: a region prefix, or everything."""

    is_authenticated = is_active = True
    unit_id = None

    def __init__(self, prefix: str):
        self.is_superuser = not prefix
        self.role = next((level for level, n in LEVEL_DIGITS.items() if n == len(prefix)), "")
        self.region_id = prefix.ljust(12, "0") if prefix else None


def quota_counts(prefix: str, period: Period, *, digits=None, units=None) -> Counts:
    """走访任务完成率: pairings in force on the last day whose cadre has paid the household, from
    1 January to that day, at least the visits the county's yearly quota owes by then pro rata
    (every mode counts), of those pairings: the worklists' 未完成走访任务 (visits/worklists.py),
    read from the yearly visit tallies."""
    on = as_of(period)
    if units is not None and not units:
        return {}
    quotas = worklists.Quotas.load()
    if visit_tallies.month_span(datetime.date(on.year, 1, 1), on):  # a quarter's end, or today: one pass
        pairings = _pairings_in_force(period).annotate(owed=worklists.owed_expression(quotas, on))
        if units is not None:
            pairings, key = pairings.filter(cadre__unit_id__in=units), F("cadre__unit_id")
        else:
            pairings = pairings.filter(prefix_range_q("household__village_id", prefix))
            key = _region_key("household__village_id", digits)
        # Not behind: nothing owed, or the tally's visits up to `on` at least what is owed.
        met = "r.owed <= 0 OR COALESCE(h.done, 0) >= r.owed"
        on_pair = {"cadre_id": "cadre_id", "household_id": "household_id"}
        return _joined(pairings, key, worklists.done_by_months(on), on_pair, met, carry=("owed",))
    scope = _Office("" if units is not None else prefix)
    behind = worklists.pairings_behind(scope, on, quotas)
    if units is not None:
        behind = behind.filter(cadre__unit_id__in=units)
    behind = Q(pk__in=behind.values("pk"))
    pairings = _pairings_in_force(period)
    if units is not None:
        return _grouped(pairings.filter(cadre__unit_id__in=units), F("cadre__unit_id"), behind, not_done=True)
    pairings = pairings.filter(prefix_range_q("household__village_id", prefix))
    return _grouped(pairings, _region_key("household__village_id", digits), behind, not_done=True)


CLOSING_KINDS = (DemandAction.Kind.RESOLVE, DemandAction.Kind.EXPLAIN)


def demand_counts(prefix: str, period: Period, *, digits=None, units=None) -> Counts:
    """诉求按期办结率: demands whose deadline fell in the quarter (up to the last day counted) that
    were resolved or explained on or before their deadline, of those demands. For units: the
    demands of households whose responsible cadre (pairing in force on the last day) is the unit's."""
    end = as_of(period)
    closed_in_time = DemandAction.objects.filter(
        demand=OuterRef("pk"), kind__in=CLOSING_KINDS, at__date__lte=OuterRef("due_on")
    )
    demands = Demand.objects.filter(
        due_on__gte=period.start,
        due_on__lte=end,
        status__in=(Demand.Status.RESOLVED, Demand.Status.EXPLAINED, *Demand.OPEN_STATUSES),
    ).annotate(hit=Exists(closed_in_time))
    # A closing step after the deadline may be followed by none before it: `hit` also needs the
    # demand to be closed now (reopening does not exist, so a closed demand stays closed).
    on_time = Q(hit=True) & Q(status__in=(Demand.Status.RESOLVED, Demand.Status.EXPLAINED))
    if units is not None:
        # Joined to the household's responsible pairing in force (one per household and day) and
        # grouped by its cadre's unit: a hash join, where a Subquery per demand looked the unit up
        # once for each demand of the quarter (issue 13).
        responsible = _pairings_in_force(period).filter(
            role=Pairing.Role.RESPONSIBLE, cadre__unit_id__in=units
        )
        demands = demands.filter(household__pairings__in=responsible)
        return _grouped(demands, F("household__pairings__cadre__unit_id"), on_time)
    demands = demands.filter(prefix_range_q("household__village_id", prefix))
    return _grouped(demands, _region_key("household__village_id", digits), on_time)


def coverage_counts(prefix: str, period: Period, *, digits=None, units=None) -> Counts:
    """结对覆盖率: poor households on the register with a responsible cadre (pairing in force on the
    last day), of the poor households on the register. For units: the unit's villages (links in
    force on the last day) that the unit visited (单位联村走访) in the quarter, of those villages.

    Not the catalogue's coverage_rate (pairing/indicators.py, 帮扶责任人落实率), though both count
    poor households with a responsible cadre: that one is the present state (open pairings now,
    whole percent), this one the quarter's last day (pairings in force then, one decimal), so a past
    quarter's ranking keeps its figure when pairings change later; for a unit it is another figure."""
    end = as_of(period)
    if units is not None:
        visited = UnitVisit.objects.filter(
            unit=OuterRef("unit_id"),
            village=OuterRef("village_id"),
            visited_on__gte=period.start,
            visited_on__lte=end,
        )
        links = VillageLink.objects.on(end).filter(unit_id__in=units).annotate(hit=Exists(visited))
        return _grouped(links, F("unit_id"), Q(hit=True))
    responsible = _pairings_in_force(period).filter(role=Pairing.Role.RESPONSIBLE).values("household_id")
    households = Household.objects.filter(
        prefix_range_q("village_id", prefix), status=HouseholdStatus.REGISTERED, category__in=POOR_CATEGORIES
    )
    return _grouped(households, _region_key("village_id", digits), Q(pk__in=responsible))


# --- The catalogue ------------------------------------------------------------------------------


def rate(done: int, total: int) -> Decimal | None:
    """A share in percent with one decimal; None where there is nothing to count."""
    if not total:
        return None
    return (Decimal(100 * done) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rate_indicator(key, name, definition, counts) -> Indicator:
    def count(scope: Scope, period: Period | None):
        if scope.unit_id is not None:
            done, total = counts("", period, units=[scope.unit_id]).get(str(scope.unit_id), (0, 0))
        else:
            done, total = counts(scope.prefix, period).get("", (0, 0))
        return rate(done, total)

    def rows(scope: Scope, period: Period | None, level_digits: int):
        return {
            child: rate(done, total)
            for child, (done, total) in counts(scope.prefix, period, digits=level_digits).items()
        }

    return Indicator(
        key=key, name=name, definition=definition, count=count, rows=rows, additive=False, unit="%"
    )


@dataclass(frozen=True)
class RankingIndicator:
    key: str
    short: str  # the column head
    counts: object


RANKING = [
    RankingIndicator("quarter_contact_rate", _("联系率"), contact_counts),
    RankingIndicator("quarter_quota_rate", _("任务完成率"), quota_counts),
    RankingIndicator("quarter_demands_on_time_rate", _("诉求按期办结率"), demand_counts),
    RankingIndicator("quarter_coverage_rate", _("结对覆盖率"), coverage_counts),
]

INDICATORS = [
    _rate_indicator(
        "quarter_contact_rate",
        "走访联系率",
        "期末有结对的在册户中，本期内被走访或电话等方式联系过的户所占比例（单位：本单位干部期末结对的户中本期被走访或联系过的比例）",
        contact_counts,
    ),
    _rate_indicator(
        "quarter_quota_rate",
        "走访任务完成率",
        "期末在结对关系中，干部年初至期末的走访次数（含电话等联系）达到本县年度走访任务按日折算应走访次数的比例，"
        "与工作清单“未完成走访任务”同一口径",
        quota_counts,
    ),
    _rate_indicator(
        "quarter_demands_on_time_rate",
        "诉求按期办结率",
        "办理期限在本期内的诉求中，在期限之前（含当日）已解决或已解释的比例",
        demand_counts,
    ),
    _rate_indicator(
        "quarter_coverage_rate",
        "结对覆盖率",
        "在册贫困户中期末有帮扶责任人的比例（单位：本单位期末联系村中本期开展过联村走访的比例）",
        coverage_counts,
    ),
]


def register() -> None:
    indicators.register(*INDICATORS)


# --- The ranking --------------------------------------------------------------------------------


@dataclass
class Row:
    key: str  # a child's code prefix, or "unit:<id>"
    name: str
    kind: str  # "region" or "unit"
    counts: dict = field(default_factory=dict)  # indicator key → (done, total)
    rates: dict = field(default_factory=dict)  # indicator key → Decimal | None
    score: Decimal | None = None
    rank: int | None = None
    previous_rank: int | None = None
    last: bool = False

    @property
    def movement(self) -> int | None:
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def cells(self) -> list[tuple[str, Decimal | None]]:
        """The four rates in column order, each with its column head."""
        return [(str(ind.short), self.rates.get(ind.key)) for ind in RANKING]

    def as_dict(self) -> dict:
        """What a bulletin freezes (JSON)."""
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "rates": {key: (str(value) if value is not None else None) for key, value in self.rates.items()},
            "score": str(self.score) if self.score is not None else None,
            "rank": self.rank,
            "previous_rank": self.previous_rank,
            "movement": self.movement,
            "last": self.last,
        }


@dataclass
class Ranking:
    title: str
    rows: list[Row]


def child_level(office_level: str) -> str:
    """Whom an office ranks: a county its townships; a city and the province their counties."""
    return {"county": "township", "city": "county", "province": "county"}[office_level]


def _score(rates: dict) -> Decimal | None:
    present = [value for value in rates.values() if value is not None]
    if not present:
        return None
    return (sum(present) / len(present)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rank(rows: list[Row]) -> None:
    ranked = sorted(
        (row for row in rows if row.score is not None),
        key=lambda row: (-row.score, -(row.rates.get("quarter_contact_rate") or 0), row.key),
    )
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    marked = LAST_MARKED if len(ranked) > LAST_MARKED else min(1, len(ranked) - 1)
    for row in ranked[len(ranked) - marked :] if marked > 0 else []:
        row.last = True
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.key))


def _fill(rows: list[Row], prefix: str, period: Period, *, digits=None, units=None) -> None:
    by_key = {row.key: row for row in rows}
    for indicator in RANKING:
        counts = indicator.counts(prefix, period, digits=digits, units=units)
        for group, pair in counts.items():
            row = by_key.get(f"unit:{group}" if units is not None else group)
            if row is not None:
                row.counts[indicator.key] = pair
    for row in rows:
        row.rates = {ind.key: rate(*row.counts.get(ind.key, (0, 0))) for ind in RANKING}
        row.score = _score(row.rates)


def _region_rows(prefix: str, level: str) -> list[Row]:
    digits = LEVEL_DIGITS[level]
    children = Region.objects.filter(prefix_range_q("code", prefix), level=level).order_by("code")
    return [Row(key=child.code[:digits], name=child.name, kind="region") for child in children]


def units_below(prefix: str, office_level: str):
    """The units seated at the office's own level within its region (a county's 县直 units)."""
    return Unit.objects.filter(prefix_range_q("region_id", prefix), level=office_level).order_by("name", "pk")


def _unit_rows(units) -> list[Row]:
    return [Row(key=f"unit:{unit.pk}", name=unit.name, kind="unit") for unit in units]


def rankings(prefix: str, office_level: str, quarter: Quarter) -> list[Ranking]:
    """The office's rankings for a quarter, with last quarter's ranks: regions below, then units."""
    level = child_level(office_level)
    digits = LEVEL_DIGITS[level]
    units = list(units_below(prefix, office_level))
    result = []
    for title, make, kwargs in (
        (
            _("%(level)s排名") % {"level": Region.Level(level).label},
            lambda: _region_rows(prefix, level),
            {"digits": digits},
        ),
        (
            _("%(level)s单位排名") % {"level": Unit.Level(office_level).label},
            lambda: _unit_rows(units),
            {"units": [u.pk for u in units]},
        ),
    ):
        rows, before = make(), make()
        if not rows:
            continue
        _fill(rows, prefix, quarter.period, **kwargs)
        _fill(before, prefix, quarter.previous.period, **kwargs)
        _rank(rows)
        _rank(before)
        previous = {row.key: row.rank for row in before}
        for row in rows:
            row.previous_rank = previous.get(row.key)
        result.append(Ranking(title=str(title), rows=rows))
    return result


def cached_rankings(prefix: str, office_level: str, quarter: Quarter, *, refresh: bool = False):
    """(rankings, counted_at): a city's or the province's ranking is kept in the cache for
    COVERAGE_CACHE_SECONDS like the other overviews (shuanglian/lib/cached_counts.py; the page
    says when it was counted and offers a recount); a county's is counted live."""
    return count_or_cached(
        f"dispatch:{prefix}:{quarter}",
        prefix,
        lambda: rankings(prefix, office_level, quarter),
        refresh=refresh,
    )
