"""Each cadre's standing (CadreStanding) and how many cadres share each one (StandingCount):
what the coverage page's cadre figures (cadres, paired, over and under their limits) add up, a few
thousand rows joined to the live limits and exemptions, instead of ~400k cadres judged one by one
(issue 18).

A standing holds no limit, so a county's RankLimit or CountyRules edit shows at once. It holds
what the limits are looked up by: the unit's seat, the rank and category, whether the cadre is
active, the household counties of the open pairings and the load (CadreLoad rows added up).

restate(cadre_ids) brings these cadres' standings up to date from the records and moves each one
that changed from its old count to its new one, so a caller says which cadres, never what changed.
Call it in the transaction of every write that changes any of those: tallies.py does for every
change of a load (pair, end, hand over, proposals, the pairing import, a household moved); a
cadre's unit, rank, category or status (admin, cadre import, handover, set_cadre_status) and a
unit's seat (admin) call it themselves; forget() before a cadre is deleted. rebuild() recounts
everything (`manage.py rebuild_pairing_tallies`, bulk writers through tallies.rebuild).
"""

from collections import Counter, defaultdict
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count

from .models import Cadre, CadreLoad, CadreStanding, StandingCount

ACTIVE = Cadre.Status.ACTIVE
# The writers below run inside their caller's transaction (a pairing service, an import, the
# admin's change page): atomic(savepoint=False) only makes sure there is one, without the two
# SAVEPOINT statements per call that each pairing write would otherwise pay several times.

# A standing's fields, in order: also the key of its StandingCount row.
KEY = ("seat", "rank", "category", "active", "counties", "households", "responsible")


class Standing(NamedTuple):
    seat: str
    rank: str
    category: str
    active: bool
    counties: str
    households: int
    responsible: int


def signature(counties) -> str:
    """The counties' codes as one value: sorted, comma-joined ('' for none)."""
    return ",".join(sorted(counties))


@transaction.atomic(savepoint=False)
def lock_cadres(cadre_ids) -> None:
    """Lock the cadres' rows, in id order: every write that restates a cadre takes this lock before
    it touches the cadre's load rows, so two writers meet here first and never cross (pair() holds it)."""
    ids = sorted(set(cadre_ids))
    if ids:
        list(Cadre.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def _standings(cadre_ids: list[int], *, lock: bool) -> tuple[dict, dict]:
    """({cadre: Standing now, from the records}, {cadre: Standing kept}); cadres that no longer exist
    are in neither."""
    cadres = Cadre.objects.filter(pk__in=cadre_ids).order_by("pk")
    if lock:
        cadres = cadres.select_for_update(of=("self",))
    rows = cadres.values_list(
        "pk",
        "unit__region_id",
        "rank",
        "category",
        "status",
        *(f"standing__{name}" for name in KEY),
    )
    loads = defaultdict(list)
    held = CadreLoad.objects.filter(cadre_id__in=cadre_ids, households__gt=0)
    for cadre_id, county, households, responsible in held.values_list(
        "cadre_id", "county", "households", "responsible"
    ):
        loads[cadre_id].append((county, households, responsible))
    now, kept = {}, {}
    for pk, seat, rank, category, status, *standing in rows:
        mine = loads[pk]
        now[pk] = Standing(
            seat,
            rank,
            category,
            status == ACTIVE,
            signature(county for county, _n, _r in mine),
            sum(n for _c, n, _r in mine),
            sum(r for _c, _n, r in mine),
        )
        if standing[0] is not None:
            kept[pk] = Standing(*standing)
    return now, kept


def _add(deltas: Counter) -> None:
    """Adds deltas[key] cadres to each StandingCount row, inserting missing ones: one statement, rows
    in key order (two writers lock them in the same order)."""
    changes = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not changes:
        return
    table = StandingCount._meta.db_table
    columns = [StandingCount._meta.get_field(name).column for name in (*KEY, "cadres")]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    cadres = connection.ops.quote_name(columns[-1])
    values = ", ".join(f"({', '.join(['%s'] * len(columns))})" for _change in changes)
    unique = ", ".join(connection.ops.quote_name(column) for column in columns[:-1])
    sql = (
        f"INSERT INTO {table} ({names}) VALUES {values} "
        f"ON CONFLICT ({unique}) DO UPDATE SET {cadres} = {table}.{cadres} + EXCLUDED.{cadres}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for key, delta in changes for value in (*key, delta)])


@transaction.atomic(savepoint=False)
def restate(cadre_ids) -> int:
    """Brings the cadres' standings up to date from the records and moves each changed one between
    the counts; under the cadres' locks. Returns how many changed."""
    ids = sorted(set(cadre_ids))
    if not ids:
        return 0
    now, kept = _standings(ids, lock=True)
    deltas, changed = Counter(), []
    for cadre_id, standing in now.items():
        old = kept.get(cadre_id)
        if old == standing:
            continue
        if old is not None:
            deltas[old] -= 1
        deltas[standing] += 1
        changed.append(CadreStanding(cadre_id=cadre_id, **standing._asdict()))
    _add(deltas)
    CadreStanding.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["cadre"],
        update_fields=list(KEY),
    )
    return len(changed)


@transaction.atomic(savepoint=False)
def forget(cadre_ids) -> None:
    """Takes cadres about to be deleted out of the counts (their standings go with them)."""
    ids = sorted(set(cadre_ids))
    lock_cadres(ids)
    deltas = Counter()
    for standing in CadreStanding.objects.filter(cadre_id__in=ids).values_list(*KEY):
        deltas[standing] -= 1
    _add(deltas)
    CadreStanding.objects.filter(cadre_id__in=ids).delete()


def counted() -> tuple[dict, dict]:
    """What the tallies should hold, from the records: ({cadre: Standing}, {key: cadres})."""
    ids = list(Cadre.objects.values_list("pk", flat=True))
    now = {}
    for start in range(0, len(ids), 5000):  # SQLite's limit on the parameters of one statement
        now.update(_standings(ids[start : start + 5000], lock=False)[0])
    return now, _counts(now.values())


def kept() -> tuple[dict, dict]:
    """What the tallies hold: ({cadre: Standing}, {key: cadres}, rows holding 0 left out)."""
    standings = {row[0]: Standing(*row[1:]) for row in CadreStanding.objects.values_list("cadre_id", *KEY)}
    counts = {
        row[:-1]: row[-1] for row in StandingCount.objects.exclude(cadres=0).values_list(*KEY, "cadres")
    }
    return standings, counts


def _counts(standings) -> dict:
    return dict(Counter(standings))


@transaction.atomic
def rebuild() -> int:
    """Recounts every standing from the cadres and their CadreLoad rows, then the counts from the
    standings: a few statements whatever the size. Idempotent; returns the standings written."""
    StandingCount.objects.all().delete()
    CadreStanding.objects.all().delete()
    cadre, load, standing = (model._meta.db_table for model in (Cadre, CadreLoad, CadreStanding))
    unit = Cadre._meta.get_field("unit").related_model._meta.db_table
    postgres = connection.vendor == "postgresql"
    # SQLite has no ordered string aggregate: there a cadre's first county is written, and the
    # full list of those holding several counties is set below.
    counties = "STRING_AGG(county, ',' ORDER BY county)" if postgres else "MIN(county)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {standing} (cadre_id, seat, rank, category, active, counties, households, responsible)
            SELECT c.id, u.region_id, c.rank, c.category, c.status = %s, COALESCE(l.counties, ''),
                   COALESCE(l.households, 0), COALESCE(l.responsible, 0)
            FROM {cadre} c
            JOIN {unit} u ON u.id = c.unit_id
            LEFT JOIN (
                SELECT cadre_id, {counties} AS counties, SUM(households) AS households,
                       SUM(responsible) AS responsible
                FROM {load} WHERE households > 0 GROUP BY cadre_id
            ) l ON l.cadre_id = c.id
            """,
            [ACTIVE],
        )
        written = cursor.rowcount
    if not postgres:
        _write_several_counties()
    columns = ", ".join(connection.ops.quote_name(StandingCount._meta.get_field(n).column) for n in KEY)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {StandingCount._meta.db_table} ({columns}, cadres) "
            f"SELECT {columns}, COUNT(*) FROM {standing} GROUP BY {columns}"
        )
    return written


def _write_several_counties() -> None:
    spread = (
        CadreLoad.objects.filter(households__gt=0)
        .values("cadre_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values("cadre_id")
    )
    several = defaultdict(set)
    for cadre_id, county in CadreLoad.objects.filter(households__gt=0, cadre_id__in=spread).values_list(
        "cadre_id", "county"
    ):
        several[cadre_id].add(county)
    CadreStanding.objects.bulk_update(
        [CadreStanding(cadre_id=cadre_id, counties=signature(held)) for cadre_id, held in several.items()],
        ["counties"],
        batch_size=500,
    )
