"""The demand figures (诉求) of a span of days (shuanglian/indicators.py): registered from
DemandsConfig.ready(). Counted live over the demands, which are far fewer than the visits."""

import datetime

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import Substr
from django.utils import timezone

from pairing.models import Pairing
from shuanglian import indicators
from shuanglian.indicators import Indicator, Period, Scope
from shuanglian.lib.codes import prefix_range_q

from .models import Demand, DemandAction, Level


def _scoped(scope: Scope):
    if scope.unit_id is not None:
        paired = Pairing.objects.open().filter(cadre__unit_id=scope.unit_id, household=OuterRef("household"))
        return Demand.objects.filter(Exists(paired))
    return Demand.objects.filter(prefix_range_q("household__village_id", scope.prefix))


def _moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _raised(scope, period):
    return _scoped(scope).filter(raised_on__gte=period.start, raised_on__lt=period.end)


def _closed_in(status: str, kind: str):
    def demands(scope, period):
        step = DemandAction.objects.filter(
            demand=OuterRef("pk"), kind=kind, at__gte=_moment(period.start), at__lt=_moment(period.end)
        )
        return _scoped(scope).filter(status=status).filter(Exists(step))

    return demands


def _open(scope, period):
    return _scoped(scope).open()


def _overdue_at(level: str | None):
    def demands(scope, period):
        # As of the period's last day, or today while the period runs.
        day = min(period.end - datetime.timedelta(days=1), timezone.localdate()) if period else None
        overdue = _scoped(scope).overdue(day)
        return overdue.filter(level=level) if level else overdue

    return demands


def _counted(key: str, demands, name: str, definition: str) -> Indicator:
    def count(scope: Scope, period: Period | None):
        return demands(scope, period).count()

    def rows(scope: Scope, period: Period | None, level_digits: int):
        grouped = (
            demands(scope, period)
            .annotate(child=Substr("household__village_id", 1, level_digits))
            .values("child")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {row["child"]: row["n"] for row in grouped}

    return Indicator(key=key, name=name, definition=definition, count=count, rows=rows, unit="件")


INDICATORS = [
    _counted("demands_raised", _raised, "新增诉求", "期间内农户提出的诉求件数（以提出日期计）"),
    _counted(
        "demands_resolved",
        _closed_in(Demand.Status.RESOLVED, DemandAction.Kind.RESOLVE),
        "办结诉求",
        "期间内办结（已解决）的诉求件数",
    ),
    _counted(
        "demands_explained",
        _closed_in(Demand.Status.EXPLAINED, DemandAction.Kind.EXPLAIN),
        "解释诉求",
        "期间内作出解释后关闭的诉求件数",
    ),
    _counted("demands_open", _open, "在办诉求", "当前尚未解决或解释的诉求件数（现状）"),
    _counted(
        "demands_overdue",
        _overdue_at(None),
        "逾期诉求",
        "期末（或今天）仍在办且已超过办理期限的诉求件数",
    ),
] + [
    _counted(
        f"demands_overdue_{code}",
        _overdue_at(level),
        f"逾期诉求（{level.label}）",
        f"逾期诉求中当前在{level.label}办理的件数",
    )
    for code, level in (
        ("cadre", Level.CADRE),
        ("unit", Level.UNIT),
        ("township", Level.TOWNSHIP),
        ("county", Level.COUNTY),
        ("city", Level.CITY),
        ("province", Level.PROVINCE),
    )
]


def register() -> None:
    indicators.register(*INDICATORS)
