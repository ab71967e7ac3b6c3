"""The demand figures (诉求) of a span of days (shuanglian/indicators.py): registered from
DemandsConfig.ready(). Counted live over the demands, which are far fewer than the visits."""

import datetime

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, Subquery
from django.db.models.functions import Substr
from django.utils import timezone

from pairing.indicators import responsible_on_last_day
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


CLOSING = (
    (DemandAction.Kind.RESOLVE, Demand.Status.RESOLVED),
    (DemandAction.Kind.EXPLAIN, Demand.Status.EXPLAINED),
)


def _counts(period: Period | None) -> dict:
    """Each figure but the closed ones as a COUNT ... FILTER over the scope's demands (one pass)."""
    open_ = Q(status__in=Demand.OPEN_STATUSES)
    if period is None:  # the present state only
        return {"demands_open": Count("pk", filter=open_)}
    # Overdue as of the period's last day, or today while the period runs.
    day = min(period.end - datetime.timedelta(days=1), timezone.localdate())
    overdue = open_ & Q(due_on__lt=day)
    filters = {
        "demands_raised": Q(raised_on__gte=period.start, raised_on__lt=period.end),
        "demands_open": open_,
        "demands_overdue": overdue,
    }
    filters |= {f"demands_overdue_{code}": overdue & Q(level=level) for code, level in OVERDUE_LEVELS}
    return {key: Count("pk", filter=condition) for key, condition in filters.items()}


def _countable(scope: Scope, period: Period | None):
    """The scope's demands that any of _counts' filters can count: the open ones and those raised in
    the period (an index each), not every demand ever raised."""
    demands = _scoped(scope)
    open_ = Q(status__in=Demand.OPEN_STATUSES)
    if period is None:
        return demands.filter(open_)
    return demands.filter(open_ | Q(raised_on__gte=period.start, raised_on__lt=period.end))


def _closing_steps(scope: Scope, period: Period):
    """The closing steps (办结, 解释) taken in the period on the scope's demands that stand closed
    that way: read from the steps in the period (an index range on kind and time), where an
    EXISTS probe per closed demand of the scope cost most of the province's report (issue 13)."""
    steps = DemandAction.objects.filter(
        kind__in=[kind for kind, _status in CLOSING],
        at__gte=_moment(period.start),
        at__lt=_moment(period.end),
    ).filter(Q(*(Q(kind=kind, demand__status=status) for kind, status in CLOSING), _connector=Q.OR))
    if scope.unit_id is not None:
        paired = Pairing.objects.open().filter(
            cadre__unit_id=scope.unit_id, household=OuterRef("demand__household")
        )
        return steps.filter(Exists(paired))
    return steps.filter(prefix_range_q("demand__household__village_id", scope.prefix))


# A demand closed twice in the period (never through the services) still counts once.
CLOSED_COUNTS = {
    "demands_resolved": Count("demand_id", distinct=True, filter=Q(kind=DemandAction.Kind.RESOLVE)),
    "demands_explained": Count("demand_id", distinct=True, filter=Q(kind=DemandAction.Kind.EXPLAIN)),
}


def _complete(row: dict) -> dict:
    return {key: row.get(key) for key in KEYS}


# The figures of the demands' flow in a period: raised, and closed (read from the closing steps).
FLOW_KEYS = frozenset({"demands_raised", "demands_resolved", "demands_explained"})


def demand_figures(scope: Scope, period: Period | None, keys: frozenset | None = None) -> dict:
    """Every figure of KEYS in one pass over the open demands and those raised in the period; asked
    for the flow figures only (``keys``: a year to date's report), the demands raised in the period
    are counted alone (an index range), not passed over with every open demand."""
    if period is not None and keys is not None and keys <= FLOW_KEYS:
        raised = _scoped(scope).filter(raised_on__gte=period.start, raised_on__lt=period.end).count()
        figures = {"demands_raised": raised} | _closing_steps(scope, period).aggregate(**CLOSED_COUNTS)
        return {key: figures[key] for key in FLOW_KEYS}
    figures = _countable(scope, period).aggregate(**_counts(period))
    if period is not None:
        figures |= _closing_steps(scope, period).aggregate(**CLOSED_COUNTS)
    return _complete(figures)


def demand_rows(scope: Scope, period: Period | None, level_digits: int) -> dict[str, dict]:
    grouped = (
        _countable(scope, period)
        .annotate(child=Substr("household__village_id", 1, level_digits))
        .values("child")
        .annotate(**_counts(period))
        .order_by()
    )
    rows = {row.pop("child"): row for row in grouped}
    if period is not None:
        closed = (
            _closing_steps(scope, period)
            .annotate(child=Substr("demand__household__village_id", 1, level_digits))
            .values("child")
            .annotate(**CLOSED_COUNTS)
            .order_by()
        )
        closed = {row.pop("child"): row for row in closed}
        # A child may have closed demands only (none open, none raised in the period).
        for child in rows.keys() | closed.keys():
            counted = rows.setdefault(child, dict.fromkeys(_counts(period), 0))
            counted |= closed.get(child, dict.fromkeys(CLOSED_COUNTS, 0))
    return {child: _complete(row) for child, row in rows.items()}


# --- Each cadre's households' demands (Indicator.by_cadre) ------------------------------------------


def cadre_demand_figures(cadres, period: Period) -> dict[int, dict]:
    """Per cadre, the demands of its responsible households (pairings in force on the period's last
    day) raised in the period and due by its last day, and of those the ones closed (已解决 or
    已解释) whose latest 办结/解释 step is dated on or before the due date: one grouped query."""
    last_day = period.end - datetime.timedelta(days=1)
    responsible = responsible_on_last_day(cadres, period)
    closing = DemandAction.objects.filter(
        demand=OuterRef("pk"), kind__in=[DemandAction.Kind.RESOLVE, DemandAction.Kind.EXPLAIN]
    )
    rows = (
        Demand.objects.filter(
            household_id__in=responsible.values("household_id"),
            raised_on__gte=period.start,
            raised_on__lt=period.end,
            due_on__lte=last_day,
        )
        .annotate(
            helper=Subquery(responsible.filter(household_id=OuterRef("household_id")).values("cadre_id")[:1]),
            on_time=ExpressionWrapper(
                Q(status__in=[Demand.Status.RESOLVED, Demand.Status.EXPLAINED])
                & Exists(closing)
                & ~Exists(closing.filter(at__date__gt=OuterRef("due_on"))),
                output_field=BooleanField(),
            ),
        )
        .values("helper")
        .annotate(due=Count("pk"), on_time_n=Count("pk", filter=Q(on_time=True)))
        .order_by()
    )
    return {
        row["helper"]: {"cadre_demands_due": row["due"], "cadre_demands_on_time": row["on_time_n"]}
        for row in rows
    }


def _counted(key: str, name: str, definition: str) -> Indicator:
    return Indicator(
        key=key,
        name=name,
        definition=definition,
        batch=demand_figures,
        batch_rows=demand_rows,
        unit="件",
        batch_takes_keys=True,
    )


INDICATORS = (
    [
        _counted("demands_raised", "新增诉求", "期间内农户提出的诉求件数（以提出日期计）"),
        _counted("demands_resolved", "办结诉求", "期间内办结（已解决）的诉求件数"),
        _counted("demands_explained", "解释诉求", "期间内作出解释后关闭的诉求件数"),
        _counted("demands_open", "在办诉求", "当前尚未解决或解释的诉求件数（现状）"),
        _counted("demands_overdue", "逾期诉求", "期末（或今天）仍在办且已超过办理期限的诉求件数"),
    ]
    + [
        _counted(
            f"demands_overdue_{code}",
            f"逾期诉求（{level.label}）",
            f"逾期诉求中当前在{level.label}办理的件数",
        )
        for code, level in OVERDUE_LEVELS
    ]
    + [
        Indicator(
            key="cadre_demands_due",
            name="帮扶户到期诉求",
            definition="干部的帮扶户期间内提出、期末（或今天）前已到办理期限的诉求件数",
            by_cadre=cadre_demand_figures,
            unit="件",
        ),
        Indicator(
            key="cadre_demands_on_time",
            name="按期办结的到期诉求",
            definition="上述到期诉求中，已解决或已解释、且最后一次办结或解释在办理期限当天或之前的件数",
            by_cadre=cadre_demand_figures,
            unit="件",
        ),
    ]
)


def register() -> None:
    indicators.register(*INDICATORS)
