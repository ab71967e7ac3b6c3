"""The pre-aggregated visit figures the worklists and reports read (HouseholdContact, VisitTally,
UnitVisitTally; the monthly VillageMonthTally and UnitMonthTally).

Kept exact in two ways: the services that save a visit call count_visit / count_unit_visit in the
visit's own transaction, and writers that insert visits in bulk (demo loader, province generator)
call rebuild() afterwards, one INSERT ... SELECT per table. Visits are never edited or deleted in
the app (the admin is read-only), so adding is the only change to follow.
"""

import datetime

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import ExtractMonth, ExtractYear, TruncMonth
from django.utils import timezone

from shuanglian.lib import tally

from .models import (
    HouseholdContact,
    MonthlyCounts,
    UnitMonthTally,
    UnitVisit,
    UnitVisitTally,
    VillageMonthTally,
    Visit,
    VisitTally,
)

# --- Reading the months of VisitTally ----------------------------------------------------------


def month_span(first_day: datetime.date, last_day: datetime.date) -> tuple[int, int, int] | None:
    """(year, first month, last month) when the visits from first_day to last_day are those of whole
    months of one year: first_day is a 1st and last_day its month's last day, or today or later (no
    visit is dated after today: the service refuses it). None otherwise (the caller counts visits)."""
    if first_day.day != 1 or first_day.year != last_day.year or first_day > last_day:
        return None
    month_end = (last_day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(1)
    if last_day != month_end and last_day < timezone.localdate():
        return None
    return first_day.year, first_day.month, last_day.month


def visits_in_months(first: int, last: int):
    """A VisitTally row's visits from month `first` to month `last` of its year: m_first + … + m_last."""
    names = VisitTally.MONTHS[first - 1 : last]
    total = F(names[0])
    for name in names[1:]:
        total += F(name)
    return total


def reached(first_day: datetime.date, last_day: datetime.date):
    """The VisitTally rows with a visit from first_day to last_day, or None where the days are not
    whole months (month_span). A household was visited or contacted then when it has such a row."""
    span = month_span(first_day, last_day)
    if span is None:
        return None
    year, first, last = span
    return (
        VisitTally.objects.filter(year=year)
        .alias(in_span=visits_in_months(first, last))
        .filter(in_span__gt=0)
        .order_by()
    )


def count_visit(visit: Visit) -> None:
    """Adds a just-saved household visit to the household's last contact, to the cadre's yearly
    tally and to the month's tallies of the village and of the cadre's unit: one upsert each.

    The household's HouseholdContact row goes first: its lock, held until the visit's transaction
    ends, queues every other visit of the household being saved at that moment. So when the monthly
    upserts (later statements, each with a fresh snapshot) look for an earlier visit of the household
    that month, any such visit saved by another transaction has committed and is seen, and two first
    visits at once do not both count the household as reached."""
    day = visit.visited_on
    tally.add_to(
        HouseholdContact, {"household_id": visit.household_id}, add={}, latest={"last_contacted_on": day}
    )
    tally.add_to(
        VisitTally,
        {"cadre_id": visit.cadre_id, "household_id": visit.household_id, "year": day.year},
        add={"visits": 1, VisitTally.MONTHS[day.month - 1]: 1},
        latest={"last_visited_on": day},
    )
    start = day.replace(day=1)
    month_visits = Visit.objects.filter(
        household_id=visit.household_id,
        visited_on__gte=start,
        visited_on__lt=(start + datetime.timedelta(days=32)).replace(day=1),
    ).exclude(pk=visit.pk)
    amounts = _month_amounts(visit)
    tally.add_to(
        VillageMonthTally,
        {"village_id": visit.household.village_id, "month": start},
        add=amounts | {"households_contacted": _first_of(month_visits)},
    )
    unit_id = visit.cadre.unit_id
    tally.add_to(
        UnitMonthTally,
        {"unit_id": unit_id, "month": start},
        add=amounts | {"households_contacted": _first_of(month_visits.filter(cadre__unit_id=unit_id))},
    )


def count_unit_visit(visit: UnitVisit) -> None:
    """Adds a just-saved unit visit to the unit's yearly tally for the village, and to the month's
    tallies of the village and the unit: one upsert each."""
    day = visit.visited_on
    tally.add_to(
        UnitVisitTally,
        {"unit_id": visit.unit_id, "village_id": visit.village_id, "year": day.year},
        add={"visits": 1},
        latest={"last_visited_on": day},
    )
    month = day.replace(day=1)
    tally.add_to(VillageMonthTally, {"village_id": visit.village_id, "month": month}, add={"unit_visits": 1})
    tally.add_to(UnitMonthTally, {"unit_id": visit.unit_id, "month": month}, add={"unit_visits": 1})


def _first_of(earlier_visits) -> tally.Sql:
    """1 if no visit of `earlier_visits` exists, else 0: computed inside the upsert, in its snapshot."""
    sql, params = earlier_visits.values("pk")[:1].query.sql_with_params()
    return tally.Sql(f"CASE WHEN EXISTS ({sql}) THEN 0 ELSE 1 END", params)


def _month_amounts(visit: Visit) -> dict:
    home = visit.mode in Visit.HOME_MODES
    return {
        "home_visits": 1 if home else 0,
        "contacts": 0 if home else 1,
        "help_cash": visit.help_cash or 0,
        "help_goods_value": visit.help_goods_value or 0,
    }


@transaction.atomic
def rebuild_monthly() -> dict[str, int]:
    """Recounts both monthly tallies from every Visit and UnitVisit: a few GROUP BY queries in the
    database, merged here (a row per village or unit and month), then written in bulk."""
    village_rows: dict[tuple, dict] = {}
    unit_rows: dict[tuple, dict] = {}
    visits = Visit.objects.order_by().annotate(m=TruncMonth("visited_on"))
    sums = {
        "home_visits": Count("pk", filter=Q(mode__in=Visit.HOME_MODES)),
        "contacts": Count("pk", filter=~Q(mode__in=Visit.HOME_MODES)),
        "households_contacted": Count("household_id", distinct=True),
        "help_cash": Sum("help_cash"),
        "help_goods_value": Sum("help_goods_value"),
    }
    for rows, owner, source in (
        (village_rows, "household__village_id", visits),
        (unit_rows, "cadre__unit_id", visits),
        (village_rows, "village_id", UnitVisit.objects.order_by().annotate(m=TruncMonth("visited_on"))),
        (unit_rows, "unit_id", UnitVisit.objects.order_by().annotate(m=TruncMonth("visited_on"))),
    ):
        aggregates = sums if source is visits else {"unit_visits": Count("pk")}
        for row in source.values(owner, "m").annotate(**aggregates):
            month = row["m"].date() if isinstance(row["m"], datetime.datetime) else row["m"]
            counts = rows.setdefault((row[owner], month), {})
            counts.update({name: row[name] or 0 for name in aggregates})
    VillageMonthTally.objects.all().delete()
    UnitMonthTally.objects.all().delete()
    VillageMonthTally.objects.bulk_create(
        (VillageMonthTally(village_id=v, month=m, **c) for (v, m), c in village_rows.items()), batch_size=2000
    )
    UnitMonthTally.objects.bulk_create(
        (UnitMonthTally(unit_id=u, month=m, **c) for (u, m), c in unit_rows.items()), batch_size=2000
    )
    return {"village_months": len(village_rows), "unit_months": len(unit_rows)}


def monthly_recount(model) -> dict[tuple, dict]:
    """A monthly tally's rows as {(owner, month): {figure: value}}, zero rows left out (tests compare it)."""
    owner = "village_id" if model is VillageMonthTally else "unit_id"
    return {
        (row[owner], row["month"]): {name: row[name] for name in MonthlyCounts.COUNTED}
        for row in model.objects.values(owner, "month", *MonthlyCounts.COUNTED)
        if any(row[name] for name in MonthlyCounts.COUNTED)
    }


def _insert_select(model, columns: list[str], queryset) -> int:
    """INSERT INTO model (columns) <the queryset's SELECT>: one statement, in the database.

    The queryset must select exactly `columns`, in that order (values() then annotate())."""
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) {sql}", params)
        return cursor.rowcount


def _per_month() -> dict:
    """The visits of each month of the year (the `m` annotation), as VisitTally.MONTHS."""
    return {name: Count("pk", filter=Q(m=month)) for month, name in enumerate(VisitTally.MONTHS, start=1)}


@transaction.atomic
def rebuild(*, household_ids=None) -> dict[str, int]:
    """Recounts every figure from the Visit and UnitVisit rows (only those households' with
    household_ids). Idempotent; returns the rows written per table."""
    visits = Visit.objects.order_by()
    contacts, tallies = HouseholdContact.objects.all(), VisitTally.objects.all()
    if household_ids is not None:
        visits = visits.filter(household_id__in=household_ids)
        contacts, tallies = (
            contacts.filter(household_id__in=household_ids),
            tallies.filter(household_id__in=household_ids),
        )
    contacts.delete()
    tallies.delete()
    written = {
        "households": _insert_select(
            HouseholdContact,
            ["household", "last_contacted_on"],
            visits.values("household_id").annotate(last=Max("visited_on")),
        ),
        "visit_tallies": _insert_select(
            VisitTally,
            ["cadre", "household", "year", "visits", "last_visited_on", *VisitTally.MONTHS],
            visits.annotate(y=ExtractYear("visited_on"), m=ExtractMonth("visited_on"))
            .values("cadre_id", "household_id", "y")
            .annotate(n=Count("pk"), last=Max("visited_on"), **_per_month()),
        ),
    }
    if household_ids is None:
        UnitVisitTally.objects.all().delete()
        written["unit_visit_tallies"] = _insert_select(
            UnitVisitTally,
            ["unit", "village", "year", "visits", "last_visited_on"],
            UnitVisit.objects.order_by()
            .annotate(y=ExtractYear("visited_on"))
            .values("unit_id", "village_id", "y")
            .annotate(n=Count("pk"), last=Max("visited_on")),
        )
    written |= rebuild_monthly()  # the monthly tallies are recounted whole: a few GROUP BY queries
    return written
