"""Open pairings per cadre and household county (CadreLoad): what the coverage page's cadre-load
judgement reads instead of aggregating every open pairing of the province (issue 18).

Kept exact in two ways, like the visit tallies (visits/tallies.py): the services that open or end
a pairing call count_opened / count_ended in their own transaction, and a household that moves to
another county has its cadres recounted (recount_households); writers that insert pairings in
bulk (demo loader, province generator) call rebuild() afterwards, one INSERT ... SELECT.
Every change of a load also restates its cadres' standings (pairing/standings.py), the counts
the coverage page's cadre figures add up.
"""

from collections import Counter

from django.db import connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat, Substr

from shuanglian.lib.codes import county_code

from . import standings
from .models import CadreLoad, Pairing

RESPONSIBLE = Pairing.Role.RESPONSIBLE


@transaction.atomic(savepoint=False)
def _change(deltas: Counter, responsible: Counter) -> None:
    """Adds deltas[(cadre_id, county)] households (and responsible[...] of them as responsible),
    race-safe: the UPDATE takes the row's lock, and a missing row is inserted empty with ON
    CONFLICT DO NOTHING first (another transaction may have just inserted it). Keys in a fixed
    order, so two writers lock rows in the same order. The cadres' rows are locked first (the
    order every writer takes: cadre, then its loads), and their standings restated after."""
    cadre_ids = {cadre_id for cadre_id, _county in deltas.keys() | responsible.keys()}
    standings.lock_cadres(cadre_ids)
    for key in sorted(deltas.keys() | responsible.keys()):
        cadre_id, county = key
        changes = {
            "households": F("households") + deltas[key],
            "responsible": F("responsible") + responsible[key],
        }
        rows = CadreLoad.objects.filter(cadre_id=cadre_id, county=county)
        if not rows.update(**changes):
            CadreLoad.objects.bulk_create(
                [CadreLoad(cadre_id=cadre_id, county=county)], ignore_conflicts=True
            )
            rows.update(**changes)
    standings.restate(cadre_ids)


def _count(pairings, sign: int) -> None:
    deltas, responsible = Counter(), Counter()
    for pairing in pairings:
        key = (pairing.cadre_id, county_code(pairing.household.village_id))
        deltas[key] += sign
        if pairing.role == RESPONSIBLE:
            responsible[key] += sign
    _change(deltas, responsible)


def count_opened(pairings) -> None:
    """Adds just-opened pairings (with their household loaded) to their cadres' loads."""
    _count(pairings, 1)


def count_ended(pairings) -> None:
    """Takes just-ended pairings (open until this transaction) off their cadres' loads."""
    _count(pairings, -1)


def _open_by_county(pairings):
    """Open pairings grouped by cadre and household county: the columns of CadreLoad, in order."""
    county = Concat(Substr("household__village_id", 1, 6), Value("000000"))
    return (
        pairings.filter(ended_on__isnull=True)
        .order_by()
        .values("cadre_id", c=county)
        .annotate(n=Count("pk"), r=Count("pk", filter=Q(role=RESPONSIBLE)))
    )


def counted(cadre_ids=None) -> dict[tuple[int, str], tuple[int, int]]:
    """What the tallies should hold, counted from the open pairings:
    {(cadre, county): (households, responsible)}."""
    pairings = Pairing.objects.all() if cadre_ids is None else Pairing.objects.filter(cadre_id__in=cadre_ids)
    return {(row["cadre_id"], row["c"]): (row["n"], row["r"]) for row in _open_by_county(pairings)}


def kept(cadre_ids=None) -> dict[tuple[int, str], tuple[int, int]]:
    """What the tallies hold (rows holding 0 left out, as counted() has none)."""
    rows = CadreLoad.objects.filter(households__gt=0)
    if cadre_ids is not None:
        rows = rows.filter(cadre_id__in=cadre_ids)
    return {
        (cadre, county): (n, r)
        for cadre, county, n, r in rows.values_list("cadre_id", "county", "households", "responsible")
    }


@transaction.atomic
def rebuild(*, cadre_ids=None) -> int:
    """Recounts the loads from the open pairings (only those cadres' with cadre_ids), in one
    INSERT ... SELECT, and the cadres' standings from them (pairing/standings.py). Idempotent;
    returns the load rows written."""
    pairings, loads = Pairing.objects.all(), CadreLoad.objects.all()
    if cadre_ids is not None:
        cadre_ids = sorted(set(cadre_ids))
        standings.lock_cadres(cadre_ids)
        pairings, loads = pairings.filter(cadre_id__in=cadre_ids), loads.filter(cadre_id__in=cadre_ids)
    loads.delete()
    sql, params = _open_by_county(pairings).query.sql_with_params()
    columns = ", ".join(
        connection.ops.quote_name(CadreLoad._meta.get_field(name).column)
        for name in ("cadre", "county", "households", "responsible")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CadreLoad._meta.db_table} ({columns}) {sql}", params)
        written = cursor.rowcount
    if cadre_ids is None:
        standings.rebuild()
    else:
        standings.restate(cadre_ids)
    return written


def recount_households(household_ids) -> None:
    """Recounts the cadres holding these households: call it in the transaction that moved any of
    them to another village (the county may have changed, and with it the limits that apply)."""
    cadre_ids = set(
        Pairing.objects.open().filter(household_id__in=list(household_ids)).values_list("cadre_id", flat=True)
    )
    if cadre_ids:
        rebuild(cadre_ids=cadre_ids)
