"""The demand figures (诉求) of a span of days (shuanglian/indicators.py): registered from
DemandsConfig.ready(). Counted live over the demands, which are far fewer than the visits."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q
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


OVERDUE_LEVELS = (
    ("cadre", Level.CADRE),
    ("unit", Level.UNIT),
    ("township", Level.TOWNSHIP),
    ("county", Level.COUNTY),
    ("city", Level.CITY),
    ("province", Level.PROVINCE),
)
KEYS = ["demands_raised", "demands_resolved", "demands_explained", "demands_open", "demands_overdue"] + [
    f"demands_overdue_{code}" for code, _level in OVERDUE_LEVELS
]


def _closed_step(kind: str, period: Period):
    return Exists(
        DemandAction.objects.filter(
            demand=OuterRef("pk"), kind=kind, at__gte=_moment(period.start), at__lt=_moment(period.end)
        )
    )


def _counts(period: Period | None) -> dict:
    """Each figure as a COUNT ... FILTER over the scope's demands (all of them in one pass)."""
    open_ = Q(status__in=Demand.OPEN_STATUSES)
    if period is None:  # the present state only
        return {"demands_open": Count("pk", filter=open_)}
    # Overdue as of the period's last day, or today while the period runs.
    day = min(period.end - datetime.timedelta(days=1), timezone.localdate())
    overdue = open_ & Q(due_on__lt=day)
    filters = {
        "demands_raised": Q(raised_on__gte=period.start, raised_on__lt=period.end),
        # The closing step's EXISTS inside the FILTER, after the status: probed for the closed
        # demands only, where an annotation probed every demand twice (one pass at the province).
        "demands_resolved": Q(status=Demand.Status.RESOLVED)
        & _closed_step(DemandAction.Kind.RESOLVE, period),
        "demands_explained": Q(status=Demand.Status.EXPLAINED)
        & _closed_step(DemandAction.Kind.EXPLAIN, period),
        "demands_open": open_,
        "demands_overdue": overdue,
    }
    filters |= {f"demands_overdue_{code}": overdue & Q(level=level) for code, level in OVERDUE_LEVELS}
    return {key: Count("pk", filter=condition) for key, condition in filters.items()}


def _annotated(scope: Scope, period: Period | None):
    return _scoped(scope)


def _complete(row: dict) -> dict:
    return {key: row.get(key) for key in KEYS}


def demand_figures(scope: Scope, period: Period | None) -> dict:
    return _complete(_annotated(scope, period).aggregate(**_counts(period)))


def demand_rows(scope: Scope, period: Period | None, level_digits: int) -> dict[str, dict]:
    grouped = (
        _annotated(scope, period)
        .annotate(child=Substr("household__village_id", 1, level_digits))
        .values("child")
        .annotate(**_counts(period))
        .order_by()
    )
    return {row.pop("child"): _complete(row) for row in grouped}


def _counted(key: str, name: str, definition: str) -> Indicator:
    return Indicator(
        key=key, name=name, definition=definition, batch=demand_figures, batch_rows=demand_rows, unit="件"
    )


INDICATORS = [
    _counted("demands_raised", "新增诉求", "期间内农户提出的诉求件数（以提出日期计）"),
    _counted("demands_resolved", "办结诉求", "期间内办结（已解决）的诉求件数"),
    _counted("demands_explained", "解释诉求", "期间内作出解释后关闭的诉求件数"),
    _counted("demands_open", "在办诉求", "当前尚未解决或解释的诉求件数（现状）"),
    _counted("demands_overdue", "逾期诉求", "期末（或今天）仍在办且已超过办理期限的诉求件数"),
] + [
    _counted(
        f"demands_overdue_{code}", f"逾期诉求（{level.label}）", f"逾期诉求中当前在{level.label}办理的件数"
    )
    for code, level in OVERDUE_LEVELS
]


def register() -> None:
    indicators.register(*INDICATORS)
