"""The visit figures of a span of days (shuanglian/indicators.py): registered from VisitsConfig.ready().

Counts of visits, contacts, households reached, help and unit visits come from the monthly tallies
(VillageMonthTally, UnitMonthTally, kept in the visits' own transaction by tallies.py), so a month
or a year of the province is a sum over at most 8,790 × 12 rows, never a pass over the visits.
The few figures a tally cannot hold (households reached over several months, households not
contacted this quarter, households working away) are counted live over the scope's households.
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from households.choices import HouseholdStatus
from households.models import Household
from pairing.indicators import responsible_on_last_day
from pairing.models import Pairing
from shuanglian import indicators
from shuanglian.indicators import Indicator, Period, Scope
from shuanglian.lib.codes import prefix_range_q

from . import tallies
from .models import UnitMonthTally, VillageMonthTally, Visit, VisitQuota, VisitTally
from .worklists import Quotas


def _months(period: Period) -> Q:
    return Q(month__gte=period.start, month__lt=period.end)


def _tally_rows(scope: Scope, period: Period):
    if scope.unit_id is not None:
        return UnitMonthTally.objects.filter(_months(period), unit_id=scope.unit_id)
    return VillageMonthTally.objects.filter(_months(period), prefix_range_q("village_id", scope.prefix))


# Indicator key → tally column; one query reads them all (an indicator batch).
TALLIED = {
    "visits_home": "home_visits",
    "visits_contact": "contacts",
    "households_contacted": "households_contacted",
    "unit_visits": "unit_visits",
    "help_cash": "help_cash",
    "help_goods_value": "help_goods_value",
}


def _zero(key: str):
    return Decimal("0.00") if key.startswith("help") else 0


def _sums():
    return {key: Sum(column) for key, column in TALLIED.items()}


def _filled(row: dict) -> dict:
    return {key: row.get(key) if row.get(key) is not None else _zero(key) for key in TALLIED}


def tally_figures(scope: Scope, period: Period | None) -> dict:
    """The tallied figures of a scope and period, in one query. Households reached add up over
    villages, not over months: over a longer span they are households_contacted's own count."""
    figures = _filled(_tally_rows(scope, period).aggregate(**_sums()))
    if not _is_one_month(period):
        figures["households_contacted"] = None
    return figures


def tally_rows(scope: Scope, period: Period | None, level_digits: int) -> dict[str, dict]:
    grouped = (
        VillageMonthTally.objects.filter(_months(period), prefix_range_q("village_id", scope.prefix))
        .annotate(child=Substr("village_id", 1, level_digits))
        .values("child")
        .annotate(**_sums())
        .order_by()
    )
    return {row.pop("child"): _filled(row) for row in grouped}


def _households_contacted(scope: Scope, period: Period | None):
    """One month: the tallies' households reached; a longer span: counted distinct over its visits."""
    if _is_one_month(period):
        return tally_figures(scope, period)["households_contacted"]
    return _visits_in(scope, period).values("household_id").distinct().count()


def _households_contacted_rows(scope: Scope, period: Period | None, level_digits: int):
    if _is_one_month(period):
        return {
            child: row["households_contacted"]
            for child, row in tally_rows(scope, period, level_digits).items()
        }
    grouped = (
        _visits_in(scope, period)
        .annotate(child=Substr("household__village_id", 1, level_digits))
        .values("child")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    return {row["child"]: row["n"] for row in grouped}


def tally_by_unit(unit_ids, period: Period) -> dict[int, dict]:
    """tally_figures of several units' own work over one month, in one query: unit id → figures
    (the rows of an office's units, where one query per unit would grow with them)."""
    if not _is_one_month(period):
        raise ValueError("units' rows are read for one month")
    grouped = (
        UnitMonthTally.objects.filter(_months(period), unit_id__in=list(unit_ids))
        .values("unit_id")
        .annotate(**_sums())
        .order_by()
    )
    found = {row.pop("unit_id"): _filled(row) for row in grouped}
    return {unit_id: found.get(unit_id, _filled({})) for unit_id in unit_ids}


def _is_one_month(period: Period) -> bool:
    return period.start.day == 1 and period.end == (period.start + datetime.timedelta(days=32)).replace(day=1)


def _visits_in(scope: Scope, period: Period):
    visits = Visit.objects.filter(visited_on__gte=period.start, visited_on__lt=period.end)
    if scope.unit_id is not None:
        return visits.filter(cadre__unit_id=scope.unit_id)
    return visits.filter(prefix_range_q("household__village_id", scope.prefix))


def scope_households(scope: Scope):
    """Households on the register the scope answers for, by the rule of the households' own
    figures (Household.objects.in_scope): a region's; a unit's linked villages' and paired ones."""
    return Household.objects.in_scope(scope).filter(status=HouseholdStatus.REGISTERED)


def _quarter_start(day: datetime.date) -> datetime.date:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def _contacted(first_day: datetime.date, last_day: datetime.date):
    """A household (the outer row) visited or contacted from first_day to last_day: one of its rows
    in the yearly visit tallies with a visit in those months (tallies.reached), or, for days that
    are not whole months, one of its visits."""
    reached = tallies.reached(first_day, last_day)
    if reached is not None:
        return Exists(reached.filter(household=OuterRef("pk")))
    return Exists(
        Visit.objects.filter(household=OuterRef("pk"), visited_on__gte=first_day, visited_on__lte=last_day)
    )


def _not_contacted_this_quarter(scope: Scope, period: Period | None):
    """Paired households with no visit or contact from the quarter's first day to the period's end.

    The quarter's months up to the period's are read from the yearly visit tallies' month columns,
    for a past month as for this one (a month's report is whole months): no pass over the visits."""
    last_day = period.end - datetime.timedelta(days=1)
    paired = Pairing.objects.open().filter(household=OuterRef("pk"))
    return (
        scope_households(scope).filter(Exists(paired)).filter(~_contacted(_quarter_start(last_day), last_day))
    )


def _working_away(scope: Scope, period: Period | None):
    return scope_households(scope).filter(working_away=True)


def _away_contacted(scope: Scope, period: Period | None):
    contacted = _contacted(period.start, period.end - datetime.timedelta(days=1))
    return _working_away(scope, period).filter(contacted)


def _household_count(households):
    def count(scope: Scope, period: Period | None):
        return households(scope, period).count()

    def rows(scope: Scope, period: Period | None, level_digits: int):
        grouped = (
            households(scope, period)
            .annotate(child=Substr("village_id", 1, level_digits))
            .values("child")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {row["child"]: row["n"] for row in grouped}

    return count, rows


# --- Each cadre's own visits (Indicator.by_cadre): the process indicators of mass evaluation ------


def _uses_yearly_tallies(period: Period) -> bool:
    """VisitTally counts a whole calendar year: it answers a span from 1 January to the year's end,
    or to a day after today (no visit is recorded in the future)."""
    first = datetime.date(period.start.year, 1, 1)
    whole_year = period.end == datetime.date(period.start.year + 1, 1, 1)
    return period.start == first and (whole_year or period.end > timezone.localdate())


def _visits_per_pair(cadres, period: Period):
    if _uses_yearly_tallies(period):
        return VisitTally.objects.filter(cadre_id__in=cadres, year=period.start.year).values(
            "cadre_id", "household_id", "visits"
        )
    return (
        Visit.objects.filter(cadre_id__in=cadres, visited_on__gte=period.start, visited_on__lt=period.end)
        .values("cadre_id", "household_id")
        .annotate(visits=Count("pk"))
        .order_by()
    )


def _owed_in(period: Period):
    """Visits owed over the period for each pairing, pro rata by its county's quota (worklists)."""
    quotas = Quotas.load()
    last_day = period.end - datetime.timedelta(days=1)

    def owed_on(day):
        return Quotas.expression(
            quotas.households, VisitQuota.HOUSEHOLD_DEFAULT, day, "started_on", "household__village_id"
        )

    if period.start.month == 1 and period.start.day == 1:
        return owed_on(last_day)
    # Later in the year: what was owed by the day before the period began is not the period's.
    return owed_on(last_day) - owed_on(period.start - datetime.timedelta(days=1))


def cadre_visit_figures(cadres, period: Period) -> dict[int, dict]:
    """Per cadre, over the households of its responsible pairings in force on the period's last day:
    Σ min(1, visits ÷ owed) (nothing owed counts 1) and the households visited at least once. The
    pairings (with what each owes) and the visits per cadre and household are two subqueries
    joined once, so the work is two scans, not a look-up per pairing."""
    pairings = (
        responsible_on_last_day(cadres, period)
        .values("cadre_id", "household_id")
        .annotate(owed=_owed_in(period))
        .order_by()
    )
    pairings_sql, pairings_params = pairings.query.sql_with_params()
    visits_sql, visits_params = _visits_per_pair(cadres, period).query.sql_with_params()
    sql = f"""
        SELECT p.cadre_id,
               SUM(CASE WHEN p.owed <= 0 OR COALESCE(v.visits, 0) >= p.owed THEN 1.0
                        ELSE COALESCE(v.visits, 0) * 1.0 / p.owed END),
               SUM(CASE WHEN v.visits > 0 THEN 1 ELSE 0 END)
        FROM ({pairings_sql}) p
        LEFT JOIN ({visits_sql}) v ON v.cadre_id = p.cadre_id AND v.household_id = p.household_id
        GROUP BY p.cadre_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, (*pairings_params, *visits_params))
        return {
            cadre_id: {"cadre_visits_against_quota": float(met), "cadre_households_contacted": contacted}
            for cadre_id, met, contacted in cursor.fetchall()
        }


def _tallied(key: str, name: str, definition: str, unit: str) -> Indicator:
    return Indicator(
        key=key, name=name, definition=definition, batch=tally_figures, batch_rows=tally_rows, unit=unit
    )


def _households(key: str, households, name: str, definition: str) -> Indicator:
    count, rows = _household_count(households)
    return Indicator(key=key, name=name, definition=definition, count=count, rows=rows, unit="户")


INDICATORS = [
    _tallied("visits_home", "入户走访", "期间内干部入户走访、座谈和集中活动的次数（民情日记）", "次"),
    _tallied("visits_contact", "电话等联系", "期间内干部以电话、短信、书信、联系卡联系农户的次数", "次"),
    Indicator(
        key="households_contacted",
        name="走访或联系的户数",
        definition="期间内至少被走访或联系过一次的农户数（同一户多次只计一次）",
        count=_households_contacted,
        rows=_households_contacted_rows,
        unit="户",
    ),
    _households(
        "households_not_contacted_quarter",
        _not_contacted_this_quarter,
        "本季度未联系户",
        "现有结对的在册户中，从本季度第一天到期末没有任何走访或联系的户数",
    ),
    _tallied(
        "unit_visits",
        "单位联村走访",
        "期间内帮扶单位到联系村开展联村走访的次数（单位的报告：本单位的次数）",
        "次",
    ),
    _households("households_away", _working_away, "外出务工户", "在册户中登记为外出务工的户数（现状）"),
    _households(
        "households_away_contacted",
        _away_contacted,
        "外出务工户已联系",
        "外出务工户中期间内被走访或电话等方式联系过的户数",
    ),
    Indicator(
        key="cadre_visits_against_quota",
        name="走访达标户数",
        definition="干部对各帮扶户期间内的走访次数（各种方式）与县定走访次数（按日折算）之比，单户最高按1计，"
        "各户相加；应走访0次的户按1计",
        by_cadre=cadre_visit_figures,
        unit="户",
    ),
    Indicator(
        key="cadre_households_contacted",
        name="已走访或联系的帮扶户",
        definition="干部的帮扶户中，期间内该干部至少走访或联系过一次的户数",
        by_cadre=cadre_visit_figures,
        unit="户",
    ),
    _tallied("help_cash", "帮扶资金", "期间内走访时登记的帮扶资金合计", "元"),
    _tallied("help_goods_value", "帮扶物资折价", "期间内走访时登记的帮扶物资折价合计", "元"),
]


def register() -> None:
    indicators.register(*INDICATORS)
