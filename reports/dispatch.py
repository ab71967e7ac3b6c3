"""Quarterly dispatch (季调度): an office ranks the counties, townships and units below it.

Four indicators of the quarter, each a rate in percent, are defined here once and registered in
the indicator catalogue (shuanglian/indicators.py), so the bulletin, the annual summary and any
other page read the same figure. Each is computed per child region (one GROUP BY over the scope's
households, pairings or demands) and per unit (one GROUP BY over the units' pairings or links), as
two counts (done, total); the rate is done / total. The ranking page counts this quarter and the
last, all four rates, in a few passes over the same rows (ranking_counts); the catalogue keeps the
functions of one rate and one period, and the tests hold the two to the same figures.

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
from django.db.models import Case, Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, Value, When
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from demands.models import Demand, DemandAction
from households.choices import POOR_CATEGORIES, HouseholdStatus
from households.models import Household, Region
from pairing.models import Pairing, Unit, VillageLink
from shuanglian import indicators
from shuanglian.access import LEVEL_DIGITS
from shuanglian.indicators import Indicator, Period, Scope
from shuanglian.lib import params, planner
from shuanglian.lib.cached_counts import count_or_cached
from shuanglian.lib.codes import prefix_range_q
from visits import tallies as visit_tallies
from visits import worklists
from visits.models import UnitVisit, Visit, VisitTally

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
    sums = _summed(rows, key_expression, {"h": (hits, on)}, [_count_if(done)], carry=(*on, *carry))
    return {key: (matched, total) for key, (total, matched) in sums.items()}


def _count_if(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _summed(
    rows, key_expression, joins: dict, sums: list[str], carry=(), alias: str = "r"
) -> dict[str, tuple[int, ...]]:
    """Per group: COUNT(*) then each SQL aggregate of `sums`, in one statement over `rows` (a
    queryset, named `alias`, "r" unless told; its columns `carry` are r.<name>) LEFT JOINed in turn to
    each of `joins` ({alias: (queryset, {column: its column})}; a column without a table is the
    rows'). A join with several rows per key repeats the row: then only `sums` that count the joined
    rows mean anything. The raw-SQL seam of the ranking: the parts are the ORM's SQL, so it runs on
    SQLite and PostgreSQL alike; `sums` hold no values."""
    rows = rows.annotate(group_key=key_expression).values("group_key", *carry).order_by()
    rows_sql, params = rows.query.sql_with_params()
    sql = [f"SELECT {alias}.group_key, COUNT(*), {', '.join(sums)} FROM ({rows_sql}) {alias}"]
    for name, (queryset, on) in joins.items():
        joined_sql, joined_params = queryset.order_by().query.sql_with_params()
        condition = " AND ".join(
            f"{name}.{theirs} = {mine if '.' in mine else f'{alias}.{mine}'}" for mine, theirs in on.items()
        )
        sql.append(f"LEFT JOIN ({joined_sql}) {name} ON {condition}")
        params = (*params, *joined_params)
    sql.append(f"GROUP BY {alias}.group_key")
    with connection.cursor() as cursor:
        cursor.execute(" ".join(sql), params)
        return {str(key): tuple(int(value or 0) for value in values) for key, *values in cursor.fetchall()}


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


# --- The ranking: every rate of both quarters in a few passes -----------------------------------
# rankings() needs the four rates of this quarter and the last, for the regions and for the units.
# Counted one rate and one quarter at a time (the functions above, which the catalogue keeps) that
# was 16 calls and 35 queries, each a pass over the province's 340k-400k households, pairings or
# tallies (issue 13). Here a pass counts every quarter at once, a column per quarter, and every
# rate that reads the same rows: the households (contact, coverage), the pairings (quota; and the
# units' contact), the demands, the units' village links. The periods must not overlap, and their
# visits must be whole months (tallies.month_span: so for any quarter); otherwise the functions above.


def _flag(condition: Q):
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _in_force(day, through: str = "") -> Q:
    """A dated relation (reached through `through`, e.g. "household__pairings__") in force on `day`."""
    return Q(**{f"{through}started_on__lte": day}) & (
        Q(**{f"{through}ended_on__isnull": True}) | Q(**{f"{through}ended_on__gt": day})
    )


def _in_force_between(relations, ends):
    """The relations in force on some day from the first of `ends` to the last: those of every end."""
    return relations.filter(
        Q(started_on__lte=max(ends)), Q(ended_on__isnull=True) | Q(ended_on__gt=min(ends))
    )


def _within(queryset, field_name: str, prefix: str):
    """Narrowed to the region when it is narrower than the province. The joined side of a pass needs
    no narrowing for the figure (the rows are the region's), but a county should read its own."""
    if len(prefix) > LEVEL_DIGITS["province"]:
        return queryset.filter(prefix_range_q(field_name, prefix))
    return queryset


def _counted(sums: dict[str, tuple[int, ...]], pick) -> Counts:
    """{group: (done, total)} from _summed's rows, `pick` giving (done, total) of a row; groups with
    nothing to count left out, as the grouped counts leave them."""
    pairs = {key: pick(values) for key, values in sums.items()}
    return {key: pair for key, pair in pairs.items() if pair[1]}


def _reached(periods: list[Period], *, prefix: str = "", households=None):
    """One row per household with a tally in the periods' years: reached<i> = 1 when anyone
    visited or contacted it in period i (the tallies' months; any cadre)."""
    tallies = VisitTally.objects.filter(year__in={as_of(period).year for period in periods})
    tallies = _within(tallies, "household__village_id", prefix)
    if households is not None:
        tallies = tallies.filter(household_id__in=households)
    spans, flags, any_visit = {}, {}, Q()
    for i, period in enumerate(periods):
        year, first, last = visit_tallies.month_span(period.start, as_of(period))
        spans[f"span{i}"] = visit_tallies.visits_in_months(first, last)
        flags[f"reached{i}"] = Max(_flag(Q(year=year, **{f"span{i}__gt": 0})))
        any_visit |= Q(**{f"span{i}__gt": 0})
    # Only the tallies with a visit in some period: the others reach nobody (fewer rows to group).
    return tallies.alias(**spans).filter(any_visit).values("household_id").annotate(**flags).order_by()


def _household_pass(prefix: str, periods: list[Period], digits) -> tuple[list[Counts], list[Counts]]:
    """(contact, coverage) of each period for the regions: the region's households, each LEFT JOINed
    to its pairings (one row per household: paired<i>, responsible<i> on period i's last day) and
    to its tallies (reached<i>). The definitions are those of contact_counts and coverage_counts."""
    ends = [as_of(period) for period in periods]
    registered = Q(status=HouseholdStatus.REGISTERED)
    households = Household.objects.filter(prefix_range_q("village_id", prefix)).annotate(
        registered=_flag(registered), poor=_flag(registered & Q(category__in=POOR_CATEGORIES))
    )
    flags = {}
    for i, end in enumerate(ends):
        flags[f"paired{i}"] = Max(_flag(_in_force(end)))
        flags[f"responsible{i}"] = Max(_flag(_in_force(end) & Q(role=Pairing.Role.RESPONSIBLE)))
    pairings = _within(_in_force_between(Pairing.objects.all(), ends), "household__village_id", prefix)
    pairings = pairings.values("household_id").annotate(**flags).order_by()
    sums = ["SUM(r.poor)"]
    for i in range(len(periods)):
        paired = f"r.registered = 1 AND p.paired{i} = 1"
        sums += [_count_if(paired), _count_if(f"{paired} AND v.reached{i} = 1")]
        sums.append(_count_if(f"r.poor = 1 AND p.responsible{i} = 1"))
    joins = {
        "p": (pairings, {"id": "household_id"}),
        "v": (_reached(periods, prefix=prefix), {"id": "household_id"}),
    }
    got = _summed(
        households, _region_key("village_id", digits), joins, sums, carry=("id", "registered", "poor")
    )
    contact = [_counted(got, lambda v, i=i: (v[3 + 3 * i], v[2 + 3 * i])) for i in range(len(periods))]
    coverage = [_counted(got, lambda v, i=i: (v[4 + 3 * i], v[1])) for i in range(len(periods))]
    return contact, coverage


def _pairing_pass(prefix: str, periods: list[Period], quotas, *, digits=None, units=None):
    """(quota, contact) of each period over the pairings in force on one of the periods' last days,
    a row per pairing with its own tally of each year LEFT JOINed (the months up to the period's
    last day, as quota_counts reads them); contact (for units only, else None) also joins the
    household's reached flags. The definitions are those of quota_counts and contact_counts."""
    ends = [as_of(period) for period in periods]
    annotations = {}
    for i, end in enumerate(ends):
        annotations[f"in{i}"] = _flag(_in_force(end))
        annotations[f"owed{i}"] = worklists.owed_expression(quotas, end)
    pairings = _in_force_between(Pairing.objects.all(), ends)
    if units is not None:
        pairings, key = pairings.filter(cadre__unit_id__in=units), F("cadre__unit_id")
    else:
        pairings = pairings.filter(prefix_range_q("household__village_id", prefix))
        key = _region_key("household__village_id", digits)
    joins, sums = {}, []
    for year in sorted({end.year for end in ends}):
        done = {
            f"done{i}": visit_tallies.visits_in_months(1, end.month)
            for i, end in enumerate(ends)
            if end.year == year
        }
        tallies = VisitTally.objects.filter(year=year)
        tallies = _within(tallies, "household__village_id", "" if units is not None else prefix)
        pair = {"cadre_id": "cadre_id", "household_id": "household_id"}
        joins[f"t{year}"] = (tallies.values("cadre_id", "household_id").annotate(**done).order_by(), pair)
    for i, end in enumerate(ends):
        done = f"COALESCE(t{end.year}.done{i}, 0)"
        sums += [f"SUM(r.in{i})", _count_if(f"r.in{i} = 1 AND (r.owed{i} <= 0 OR {done} >= r.owed{i})")]
        if units is not None:
            sums.append(_count_if(f"r.in{i} = 1 AND v.reached{i} = 1"))
    if units is not None:
        joins["v"] = (
            _reached(periods, households=pairings.values("household_id")),
            {"household_id": "household_id"},
        )
    carry = ("cadre_id", "household_id", *annotations)
    got = _summed(pairings.annotate(**annotations), key, joins, sums, carry=carry)
    step = 3 if units is not None else 2
    quota = [_counted(got, lambda v, i=i: (v[2 + step * i], v[1 + step * i])) for i in range(len(periods))]
    if units is None:
        return quota, None
    return quota, [
        _counted(got, lambda v, i=i: (v[3 + step * i], v[1 + step * i])) for i in range(len(periods))
    ]


def _demand_pass(prefix: str, periods: list[Period], *, digits=None, units=None) -> list[Counts]:
    """demand_counts of each period in one pass: the demands due in one of the periods (each tagged
    with its period), LEFT JOINed to their first closing step's day: a demand closed now whose first
    closing step fell on or before its deadline was closed in time (some step did, so the first did).
    For units the rows are the units' responsible pairings, each joined to its household's demands
    and counting those of a period on whose last day it was in force (demand_counts' join)."""
    ends = [as_of(period) for period in periods]
    which = [
        When(due_on__gte=period.start, due_on__lte=end, then=Value(i))
        for i, (period, end) in enumerate(zip(periods, ends, strict=True))
    ]
    closed = (Demand.Status.RESOLVED, Demand.Status.EXPLAINED)
    # One range of due days over the periods (the sums keep each period's own).
    demands = Demand.objects.filter(
        due_on__gte=min(period.start for period in periods),
        due_on__lte=max(ends),
        status__in=(*closed, *Demand.OPEN_STATUSES),
    ).annotate(
        period=Case(*which, default=Value(-1), output_field=IntegerField()),
        closed=_flag(Q(status__in=closed)),
    )
    closing = DemandAction.objects.filter(kind__in=CLOSING_KINDS)
    if units is None:
        closing = _within(closing, "demand__household__village_id", prefix)
    first_closing = closing.values("demand_id").annotate(closed_on=Min(TruncDate("at"))).order_by()
    on_time = "d.closed = 1 AND c.closed_on <= d.due_on"
    if units is not None:
        # Hash joins from the units' pairings (tens of thousands at the province): from the demands,
        # PostgreSQL probed the household, pairing and cadre indexes once per demand of the quarters.
        flags = {f"in{i}": _flag(_in_force(end)) for i, end in enumerate(ends)}
        rows = _in_force_between(
            Pairing.objects.filter(role=Pairing.Role.RESPONSIBLE, cadre__unit_id__in=units), ends
        ).annotate(**flags)
        # Only the demands (and closing steps) of these pairings' households: a county's units'.
        households = rows.values("household_id")
        demands = demands.filter(household_id__in=households)
        first_closing = first_closing.filter(demand__household_id__in=households)
        joins = {
            "d": (
                demands.values("id", "household_id", "due_on", "period", "closed"),
                {"household_id": "household_id"},
            ),
            "c": (first_closing, {"d.id": "demand_id"}),
        }
        sums = []
        for i in range(len(periods)):
            mine = f"r.in{i} = 1 AND d.period = {i}"
            sums += [_count_if(mine), _count_if(f"{mine} AND {on_time}")]
        got = _summed(rows, F("cadre__unit_id"), joins, sums, carry=("household_id", *flags))
    else:
        rows = demands.filter(prefix_range_q("household__village_id", prefix))
        sums = []
        for i in range(len(periods)):
            sums += [_count_if(f"d.period = {i}"), _count_if(f"d.period = {i} AND {on_time}")]
        joins = {"c": (first_closing, {"d.id": "demand_id"})}
        key = _region_key("household__village_id", digits)
        got = _summed(rows, key, joins, sums, carry=("id", "due_on", "period", "closed"), alias="d")
    return [_counted(got, lambda v, i=i: (v[2 + 2 * i], v[1 + 2 * i])) for i in range(len(periods))]


def _link_pass(periods: list[Period], units) -> list[Counts]:
    """coverage_counts of each period for units in one pass: the units' village links in force on
    one of the periods' last days, LEFT JOINed to their unit visits (visited<i> in period i)."""
    ends = [as_of(period) for period in periods]
    flags = {f"in{i}": _flag(_in_force(end)) for i, end in enumerate(ends)}
    links = _in_force_between(VillageLink.objects.filter(unit_id__in=units), ends).annotate(**flags)
    visited = {
        f"visited{i}": Max(_flag(Q(visited_on__gte=period.start, visited_on__lte=end)))
        for i, (period, end) in enumerate(zip(periods, ends, strict=True))
    }
    visits = (
        UnitVisit.objects.filter(
            unit_id__in=units, visited_on__gte=min(p.start for p in periods), visited_on__lte=max(ends)
        )
        .values("unit_id", "village_id")
        .annotate(**visited)
        .order_by()
    )
    sums = []
    for i in range(len(periods)):
        sums += [f"SUM(r.in{i})", _count_if(f"r.in{i} = 1 AND u.visited{i} = 1")]
    joins = {"u": (visits, {"unit_id": "unit_id", "village_id": "village_id"})}
    got = _summed(links, F("unit_id"), joins, sums, carry=("unit_id", "village_id", *flags))
    return [_counted(got, lambda v, i=i: (v[2 + 2 * i], v[1 + 2 * i])) for i in range(len(periods))]


def _whole_months(periods: list[Period]) -> bool:
    spans = [(period.start, as_of(period)) for period in periods]
    return all(
        visit_tallies.month_span(start, end) and visit_tallies.month_span(datetime.date(end.year, 1, 1), end)
        for start, end in spans
    ) and all(a[1] < b[0] or b[1] < a[0] for n, a in enumerate(spans) for b in spans[n + 1 :])


def ranking_counts(
    prefix: str, periods: list[Period], *, digits=None, units=None, quotas=None
) -> list[dict[str, Counts]]:
    """For each period: {indicator key: Counts}, the four rates' counts per child region (`digits`)
    or per unit (`units`: ids, or a queryset of them), in three statements (plus the quotas)."""
    if not _whole_months(periods):
        return [
            {ind.key: ind.counts(prefix, period, digits=digits, units=units) for ind in RANKING}
            for period in periods
        ]
    quotas = worklists.Quotas.load() if quotas is None else quotas
    quota, contact = _pairing_pass(prefix, periods, quotas, digits=digits, units=units)
    if units is None:
        contact, coverage = _household_pass(prefix, periods, digits)
    else:
        coverage = _link_pass(periods, units)
    demands = _demand_pass(prefix, periods, digits=digits, units=units)
    return [
        {
            "quarter_contact_rate": contact[i],
            "quarter_quota_rate": quota[i],
            "quarter_demands_on_time_rate": demands[i],
            "quarter_coverage_rate": coverage[i],
        }
        for i in range(len(periods))
    ]


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


def _fill(tables: list[list[Row]], prefix: str, periods: list[Period], **kwargs) -> None:
    """Fills each table of rows with its period's counts, rates and scores (ranking_counts)."""
    units = kwargs.get("units")
    for rows, counts in zip(tables, ranking_counts(prefix, periods, **kwargs), strict=True):
        by_key = {row.key: row for row in rows}
        for indicator in RANKING:
            for group, pair in counts[indicator.key].items():
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


# At most one parallel worker for the ranking's passes. With PostgreSQL's default of two, each of
# the three processes of the households pass rebuilt the per-household aggregates of all 340k
# pairings and tallies (EXPLAIN ANALYZE at scale 1.0: loops=3 on both), and on two cores the third
# process only waits: the province ranking took 1.98-2.07 s with two workers, 1.59-1.71 s with one,
# 2.61 s with none (the passes' scans do gain from one worker).
RANKING_PARALLEL_WORKERS = 1


def rankings(prefix: str, office_level: str, quarter: Quarter) -> list[Ranking]:
    """The office's rankings for a quarter, with last quarter's ranks: regions below, then units."""
    with planner.settings("max_parallel_workers_per_gather", RANKING_PARALLEL_WORKERS):
        return _rankings(prefix, office_level, quarter)


def _rankings(prefix: str, office_level: str, quarter: Quarter) -> list[Ranking]:
    level = child_level(office_level)
    digits = LEVEL_DIGITS[level]
    units = list(units_below(prefix, office_level))
    quotas = worklists.Quotas.load()
    result = []
    for title, rows, kwargs in (
        (
            _("%(level)s排名") % {"level": Region.Level(level).label},
            _region_rows(prefix, level),
            {"digits": digits},
        ),
        (
            _("%(level)s单位排名") % {"level": Unit.Level(office_level).label},
            _unit_rows(units),
            {"units": units_below(prefix, office_level).values("pk")},
        ),
    ):
        if not rows:
            continue
        before = [Row(key=row.key, name=row.name, kind=row.kind) for row in rows]
        _fill([rows, before], prefix, [quarter.period, quarter.previous.period], quotas=quotas, **kwargs)
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
