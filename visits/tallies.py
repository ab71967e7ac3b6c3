"""The pre-aggregated visit figures the worklists read (HouseholdContact, VisitTally, UnitVisitTally).

Kept exact in two ways: the services that save a visit call count_visit / count_unit_visit in the
visit's own transaction, and writers that insert visits in bulk (demo loader, province generator)
call rebuild() afterwards, one INSERT ... SELECT per table. Visits are never edited or deleted in
the app (the admin is read-only), so adding is the only change to follow.
"""

import datetime

from django.db import connection, transaction
from django.db.models import Count, F, Max, Value
from django.db.models.functions import ExtractYear, Greatest

from .models import HouseholdContact, UnitVisit, UnitVisitTally, Visit, VisitTally


def _add(model, key: dict, day: datetime.date, *, counted: bool = True) -> None:
    """One more visit on `day` for the row `key` of `model`, race-safe.

    The UPDATE takes the row's lock, so two visits saved at once both count. A missing row (the
    year's first visit) is inserted empty with ON CONFLICT DO NOTHING, so a row another transaction
    has just inserted stays as it is, and then updated like any other."""
    date_field = "last_visited_on" if counted else "last_contacted_on"
    changes = {date_field: Greatest(F(date_field), Value(day))}
    if counted:
        changes["visits"] = F("visits") + 1
    rows = model.objects.filter(**key)
    if not rows.update(**changes):
        empty = model(**key, **{date_field: day}, **({"visits": 0} if counted else {}))
        model.objects.bulk_create([empty], ignore_conflicts=True)
        rows.update(**changes)


def count_visit(visit: Visit) -> None:
    """Adds a just-saved household visit to the household's last contact and to the cadre's yearly tally."""
    _add(HouseholdContact, {"household_id": visit.household_id}, visit.visited_on, counted=False)
    _add(
        VisitTally,
        {"cadre_id": visit.cadre_id, "household_id": visit.household_id, "year": visit.visited_on.year},
        visit.visited_on,
    )


def count_unit_visit(visit: UnitVisit) -> None:
    """Adds a just-saved unit visit to the unit's yearly tally for the village."""
    _add(
        UnitVisitTally,
        {"unit_id": visit.unit_id, "village_id": visit.village_id, "year": visit.visited_on.year},
        visit.visited_on,
    )


def _insert_select(model, columns: list[str], queryset) -> int:
    """INSERT INTO model (columns) <the queryset's SELECT>: one statement, in the database.

    The queryset must select exactly `columns`, in that order (values() then annotate())."""
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) {sql}", params)
        return cursor.rowcount


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
            ["cadre", "household", "year", "visits", "last_visited_on"],
            visits.annotate(y=ExtractYear("visited_on"))
            .values("cadre_id", "household_id", "y")
            .annotate(n=Count("pk"), last=Max("visited_on")),
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
    return written
