"""The plan figures of a year (帮扶计划), and the households under a three-floor alert that the plans
answer: registered from PlansConfig.ready() (shuanglian/indicators.py)."""

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import Substr

from households.floors import alert_q
from households.models import Household
from pairing.indicators import responsible_on_last_day
from pairing.models import VillageLink
from shuanglian import indicators
from shuanglian.indicators import Indicator, Period, Scope
from shuanglian.lib.codes import prefix_range_q
from visits.indicators import scope_households

from .models import HouseholdPlan, VillagePlan


def _year(period: Period):
    return period.start.year


def _village_plans(scope: Scope, period: Period):
    plans = VillagePlan.objects.filter(year=_year(period))
    if scope.unit_id is not None:
        linked = VillageLink.objects.open().filter(unit_id=scope.unit_id).values("village_id")
        return plans.filter(village_id__in=linked), "village_id"
    return plans.filter(prefix_range_q("village_id", scope.prefix)), "village_id"


def _household_plans(scope: Scope, period: Period):
    plans = HouseholdPlan.objects.filter(year=_year(period))
    if scope.unit_id is not None:
        return plans.filter(household__in=scope_households(scope)), "household__village_id"
    return plans.filter(prefix_range_q("household__village_id", scope.prefix)), "household__village_id"


# A scope this narrow (a township, a village) reads its households' members one household at a
# time; a county or more in one hash of the matching members (households.floors.alert_q).
PER_HOUSEHOLD_DIGITS = 9


def _floor_alerts(scope: Scope, period: Period | None):
    narrow = scope.unit_id is None and len(scope.prefix) >= PER_HOUSEHOLD_DIGITS
    households = Household.objects.filter(alert_q(per_household=narrow))
    if scope.unit_id is not None:
        return households.filter(pk__in=scope_households(scope).values("pk")), "village_id"
    return households.filter(prefix_range_q("village_id", scope.prefix)), "village_id"


def _counted(key, rows_of, name, definition, unit) -> Indicator:
    def count(scope, period):
        return rows_of(scope, period)[0].count()

    def rows(scope, period, level_digits):
        queryset, code = rows_of(scope, period)
        grouped = (
            queryset.annotate(child=Substr(code, 1, level_digits))
            .values("child")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {row["child"]: row["n"] for row in grouped}

    return Indicator(key=key, name=name, definition=definition, count=count, rows=rows, unit=unit)


def cadre_plan_figures(cadres, period: Period) -> dict[int, dict]:
    """Per cadre, its responsible households (pairings in force on the period's last day) with a
    household plan for the period's year: one grouped query."""
    planned = HouseholdPlan.objects.filter(household_id=OuterRef("household_id"), year=_year(period))
    rows = (
        responsible_on_last_day(cadres, period)
        .filter(Exists(planned))
        .values("cadre_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["cadre_id"]: {"cadre_households_planned": row["n"]} for row in rows}


INDICATORS = [
    _counted("villages_planned", _village_plans, "有帮扶计划的村", "本年度已制定村帮扶计划的村数", "个"),
    _counted("households_planned", _household_plans, "有帮扶计划的户", "本年度已制定户帮扶计划的户数", "户"),
    _counted(
        "households_floor_alert",
        _floor_alerts,
        "“三个不能”预警户",
        "当前存在不能生活不下去、不能因贫失学、不能因贫看不起病预警的户数（现状）",
        "户",
    ),
    Indicator(
        key="cadre_households_planned",
        name="有本年度帮扶计划的帮扶户",
        definition="干部的帮扶户中已制定本年度户帮扶计划的户数",
        by_cadre=cadre_plan_figures,
        unit="户",
    ),
]


def register() -> None:
    indicators.register(*INDICATORS)
