"""The detectors behind `manage.py flag_records`: each yields what it found, `run` saves the new ones.

A flag's `key` names the kind and the records (雷同日记 the pair, 不可能的一天 the cadre and day, …),
so a run that finds again what an earlier one found creates nothing: the command is safe to run
from cron as often as one likes.

An incremental run (`since`) looks at the visits recorded since that day, found by id: a visit's
recorded_at is stamped at insert, so ids and recorded_at rise together and the first id recorded
since the day is found by bisection over the primary key (about 25 look-ups) rather than by a
scan of recorded_at, which has no index. Each new visit is still compared with every earlier one
where the kind needs it (its diary's LSH bands, its cadre's whole day).

At province scale (millions of visits) each detector is one pass: rows stream from server-side
cursors (only the columns needed), the set work (pairing diaries that share a band, a cadre's day
across townships, an account's sittings) is done by the database in one query each, and flags are
written in bounded batches with bulk_create. Memory stays flat whatever the table's size.
"""

import contextlib
import datetime
import io
import itertools
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import Ballot
from evaluation.questionnaire import VISITS
from households.models import Household, Region
from pairing.models import Cadre
from shuanglian.lib import planner
from visits.models import Visit

from . import diaries
from .models import DiaryBand, Flag, FlagRun, FlagVisit

CHUNK = 1000
STREAM = 5000  # rows fetched at a time from a server-side cursor
BAND_BATCH = 100_000  # bands written at a time
LINK_BATCH = 20_000  # flag-visit links written at a time
SAVE_VISITS = 20_000  # flags saved once they name this many visits (memory stays bounded)
CANDIDATES_PER_DIARY = 10
BULK_RUN_MOST = 2000


@dataclass
class Found:
    kind: str
    key: str
    village_id: str
    reason: str
    visit_ids: list[int]
    cadre_id: int | None = None
    similarity: float | None = None
    extra: dict = field(default_factory=dict)


def first_visit_id_since(day: datetime.date) -> int:
    """The smallest visit id recorded on or after `day` (bisection over the primary key)."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    bounds = Visit.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    if low is None:
        return 0
    if Visit.objects.filter(id=high, recorded_at__lt=start).exists():
        return high + 1
    # Invariant: every id < low was recorded before `start`; the visit at or after `high` is not.
    while low < high:
        middle = (low + high) // 2
        row = Visit.objects.filter(id__gte=middle).order_by("id").values_list("id", "recorded_at").first()
        if row[1] < start:
            low = row[0] + 1
        else:
            high = middle  # no id lies between middle and row's: the boundary is at middle or below
    return low


# --- 雷同日记 ------------------------------------------------------------------------------------


def copied_diaries(first_id: int):
    """Each newly fingerprinted diary against every earlier one: the best candidate at or over the
    threshold. Two steps, each a single pass: fingerprint the new diaries (a stream of their text,
    bands written in large batches), then let the database pair the diaries sharing a band."""
    floor = _compared_bands()
    if _fingerprint(first_id) >= SETTLE_AFTER:
        _settle()
    if DiaryBand.objects.filter(id__gt=floor).exists():
        yield from _verify(floor)
    # else nothing new: a repeated run reads the new ids once and hashes nothing


def _compared_bands() -> int:
    """The bands every completed run has compared (those up to the last one's highest)."""
    return FlagRun.objects.aggregate(high=Max("last_band_id"))["high"] or 0


def _fingerprint(first_id: int) -> int:
    """Write the bands of the diaries from `first_id` on that have none yet; return how many diaries."""
    # A diary fingerprinted by an earlier run was compared then with every earlier diary, and each
    # later one is compared with it when its own turn comes: it is skipped in the query itself.
    # Letters only count (diaries.normalize), so a raw length under the minimum can never qualify.
    new = (
        Visit.objects.filter(id__gte=first_id)
        .annotate(chars=Length("diary"))
        .filter(chars__gte=diaries.min_chars())
        .filter(~Exists(DiaryBand.objects.filter(visit_id=OuterRef("pk"))))
        .order_by("id")
        .values_list("id", "diary")
    )
    signer = diaries.Signer()
    done, rows = 0, []
    with _bulk_load():
        for pk, text in new.iterator(chunk_size=STREAM):
            if keys := signer.fingerprint(text):
                rows.extend((band, pk) for band in keys)
                done += 1
            if len(rows) >= BAND_BATCH:
                _write_bands(rows)
                rows = []
        _write_bands(rows)
    return done


@contextlib.contextmanager
def _bulk_load():
    """A first run on PostgreSQL (no band yet, outside a transaction) loads the band table without
    its indexes and builds them after: one sort each instead of tens of millions of inserts into a
    B-tree at random places, which cost the database more than the hashing cost Python.

    A run stopped in between leaves the table without them; every run puts back what is missing
    first (_restore_band_indexes). Only flag_records writes bands, one run at a time (_one_run), and
    it reads only unbanded diaries, so the unique index is always buildable. Meanwhile deleting a
    visit (its bands cascade) scans the band table: a first run happens once, at deployment."""
    _restore_band_indexes()
    bulk = (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not DiaryBand.objects.exists()
    )
    if not bulk:
        yield
        return
    with connection.schema_editor(atomic=False) as editor:
        for index in DiaryBand._meta.indexes:
            editor.remove_index(DiaryBand, index)
        for constraint in DiaryBand._meta.constraints:
            editor.remove_constraint(DiaryBand, constraint)
    yield
    _restore_band_indexes()


def _restore_band_indexes() -> None:
    """Build the band table's indexes that are missing (a first run drops them while loading)."""
    if connection.vendor != "postgresql":
        return
    table = DiaryBand._meta.db_table
    with connection.cursor() as cursor:
        present = connection.introspection.get_constraints(cursor, table)
    missing = [index for index in DiaryBand._meta.indexes if index.name not in present]
    missing_constraints = [c for c in DiaryBand._meta.constraints if c.name not in present]
    if not missing and not missing_constraints:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")  # each index one sort in memory
    try:
        with connection.schema_editor(atomic=False) as editor:
            for index in missing:
                editor.add_index(DiaryBand, index)
            for constraint in missing_constraints:
                editor.add_constraint(DiaryBand, constraint)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET maintenance_work_mem")


SETTLE_AFTER = 100_000  # diaries fingerprinted in one run after which the band table is vacuumed


def _settle() -> None:
    """After a bulk load of bands (a first run writes tens of millions): VACUUM ANALYZE, so that the
    planner knows the table's new size and the candidate query reads the band index alone (an
    index-only scan needs the pages marked all-visible) instead of visiting the table row by row.
    Outside a transaction only (VACUUM cannot run in one: a dry run skips it)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {DiaryBand._meta.db_table}")


def _write_bands(rows: list[tuple[int, int]]) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        DiaryBand.objects.bulk_create(
            [DiaryBand(band=band, visit_id=pk) for band, pk in rows], ignore_conflicts=True, batch_size=5000
        )
        return
    # COPY: the first run writes tens of millions of bands, one model object each would cost more
    # than the hashing. Safe from duplicates: only unbanded diaries are read, and one run at a time
    # holds the run's lock (_run).
    text = "".join(f"{band}\t{pk}\n" for band, pk in rows)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {DiaryBand._meta.db_table} (band, visit_id) FROM STDIN", io.StringIO(text), size=1 << 20
        )


# The candidates of each diary fingerprinted this run (bands with id above the floor): the diaries
# sharing a band with it (the earliest few only of a band shared very widely), counted by the bands
# shared, the best CANDIDATES_PER_DIARY of them. A new diary meets every earlier one and each new one
# before it, so each pair is met once, from its later diary.
#
# {bands} names the bands worth reading. A daily run: the bands of its new diaries (a few thousand,
# found by id). A first run (floor 0): every band is new, and asking which of 23 million bands are
# among the new ones cost a hash join of the table with itself before sorting all of it by band;
# instead the bands more than one diary holds are counted off the band index (an index-only scan in
# band order, no sort) and only their rows are read: most bands belong to one diary and pair nothing.
CANDIDATES_SQL = """
WITH ranked AS (
    SELECT b.id, b.band, b.visit_id,
           ROW_NUMBER() OVER (PARTITION BY b.band ORDER BY b.visit_id) AS place,
           COUNT(*) OVER (PARTITION BY b.band) AS size
    FROM {band} b
    WHERE b.band IN ({bands})
),
shared AS (SELECT id, band, visit_id, place, size FROM ranked WHERE size > 1)
SELECT a, b FROM (
    SELECT a, b, ROW_NUMBER() OVER (PARTITION BY a ORDER BY n DESC, b) AS r FROM (
        SELECT mine.visit_id AS a, other.visit_id AS b, COUNT(*) AS n
        FROM shared mine JOIN shared other ON other.band = mine.band AND other.visit_id <> mine.visit_id
        WHERE mine.id > %(floor)s
          AND (other.size <= %(hot)s OR other.place <= %(sample)s)
          AND (other.id <= %(floor)s OR other.visit_id < mine.visit_id)
        GROUP BY mine.visit_id, other.visit_id
    ) pairs
) top
WHERE r <= %(most)s
ORDER BY a, r
"""
NEW_BANDS_SQL = "SELECT n.band FROM {band} n WHERE n.id > %(floor)s"
SHARED_BANDS_SQL = "SELECT s.band FROM {band} s GROUP BY s.band HAVING COUNT(*) > 1"


def _candidates_sql(floor: int) -> str:
    table = DiaryBand._meta.db_table
    bands = (SHARED_BANDS_SQL if floor == 0 else NEW_BANDS_SQL).format(band=table)
    return CANDIDATES_SQL.format(band=table, bands=bands)


def _verify(floor: int):
    sql = _candidates_sql(floor)
    values = {
        "floor": floor,
        "hot": diaries.HOT_BAND,
        "sample": diaries.HOT_BAND_SAMPLE,
        "most": CANDIDATES_PER_DIARY,
    }
    with transaction.atomic():
        _roomy()
        if floor == 0:
            # A parallel plan counted the bands held twice off the band index once in each of its
            # three processes (EXPLAIN ANALYZE at scale 1.0: 41.8 s; serial 36.5 s, a third of the CPU).
            planner.for_transaction("max_parallel_workers_per_gather", 0)
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, values)
            group, candidates = None, {}
            while rows := cursor.fetchmany(STREAM):
                for a, b in rows:
                    if a != group and len(candidates) >= CHUNK:
                        yield from _compare(candidates)
                        candidates = {}
                    group = a
                    candidates.setdefault(a, []).append(b)
            yield from _compare(candidates)


def _roomy() -> None:
    """Inside a transaction: let this one query sort in memory on the server (the windows and
    groupings over millions of rows) rather than in temporary files; it ends with the transaction."""
    planner.for_transaction("work_mem", "256MB")


def _compare(candidates: dict[int, list[int]]):
    """Jaccard over the shingles of each diary and its candidates (best first): the best at or over
    the threshold is a flag. Only the diaries' text is read for all of them, each cut into shingles
    once (a diary is the candidate of many), and the details that words a flag for the flagged only."""
    if not candidates:
        return
    wanted = set(candidates) | {other for others in candidates.values() for other in others}
    texts = dict(Visit.objects.filter(id__in=wanted).values_list("id", "diary"))
    grams = {}

    def shingles(pk: int) -> set[str]:
        found = grams.get(pk)
        if found is None:
            found = grams[pk] = diaries.shingles(texts[pk])
        return found

    limit, pairs = diaries.threshold(), []
    for pk, others in candidates.items():
        if pk not in texts:
            continue
        mine = shingles(pk)
        best, best_score = None, 0.0
        for other in others:
            if other not in texts:
                continue
            theirs = shingles(other)
            if not mine or not theirs:
                continue  # similarity 0: never a copy (a diary since emptied)
            # The Jaccard of two sets is at most the smaller's size over the larger's (as floats too:
            # division rounds monotonically): a pair that cannot reach the threshold, or the best so
            # far, is not intersected.
            if min(len(mine), len(theirs)) / max(len(mine), len(theirs)) < max(limit, best_score):
                continue
            score = diaries.jaccard(mine, theirs)
            if score > best_score or (score == best_score and best is not None and other < best):
                best, best_score = other, score
        if best is not None and best_score >= limit:
            pairs.append((pk, best, best_score))
    if not pairs:
        return
    columns = ("id", "cadre_id", "cadre__name", "visited_on", "household__village_id")
    flagged = {pk for pk, best, _score in pairs} | {best for pk, best, _score in pairs}
    rows = {row[0]: row for row in Visit.objects.filter(id__in=flagged).values_list(*columns)}
    for pk, best, best_score in pairs:
        if pk not in rows or best not in rows:
            continue  # deleted since its text was read
        this, that = rows[pk], rows[best]
        same = this[1] == that[1]
        reason = _("%(day)s %(cadre)s 的民情日记与%(whose)s %(other_day)s 的日记相似度 %(percent)d%%") % {
            "day": this[3],
            "cadre": this[2],
            "whose": _("本人") if same else that[2],
            "other_day": that[3],
            "percent": round(best_score * 100),
        }
        low, high = sorted((pk, best))
        yield Found(
            kind=Flag.Kind.COPIED,
            key=f"copy:{low}:{high}",
            village_id=this[4],
            reason=reason,
            visit_ids=[low, high],
            cadre_id=this[1],
            similarity=round(best_score, 3),
        )


# --- 不可能的一天 --------------------------------------------------------------------------------

# One pass: the (cadre, day)s whose home visits span townships or exceed the limit, joined back to
# their visits, in cadre and day order so that each day's visits arrive together. An incremental run
# looks only at the days of its new visits (each still counted whole).
IMPOSSIBLE_SQL = """
SELECT v.id, v.cadre_id, c.name, v.visited_on, h.village_id, town.name, d.towns, d.households
FROM (
    SELECT v.cadre_id, v.visited_on,
           COUNT(DISTINCT SUBSTR(h.village_id, 1, 9)) AS towns,
           COUNT(DISTINCT v.household_id) AS households
    FROM {visit} v JOIN {household} h ON h.id = v.household_id
    WHERE v.mode = %(mode)s {new_days}
    GROUP BY v.cadre_id, v.visited_on
    HAVING COUNT(DISTINCT SUBSTR(h.village_id, 1, 9)) > 1 OR COUNT(DISTINCT v.household_id) > %(most)s
) d
JOIN {visit} v ON v.cadre_id = d.cadre_id AND v.visited_on = d.visited_on AND v.mode = %(mode)s
JOIN {household} h ON h.id = v.household_id
JOIN {region} village ON village.code = h.village_id
JOIN {region} town ON town.code = village.parent_id
JOIN {cadre} c ON c.id = v.cadre_id
ORDER BY v.cadre_id, v.visited_on, v.id
"""
NEW_DAYS_SQL = (
    "AND (v.cadre_id, v.visited_on) IN "
    "(SELECT n.cadre_id, n.visited_on FROM {visit} n WHERE n.id >= %(first_id)s AND n.mode = %(mode)s)"
)


def impossible_days(first_id: int):
    """A cadre's home visits of one day in villages of different townships, or more than the limit."""
    tables = {
        "visit": Visit._meta.db_table,
        "household": Household._meta.db_table,
        "region": Region._meta.db_table,
        "cadre": Cadre._meta.db_table,
    }
    new_days = NEW_DAYS_SQL.format(**tables) if first_id else ""
    sql = IMPOSSIBLE_SQL.format(new_days=new_days, **tables)
    most = settings.INSPECTION_MAX_HOUSEHOLDS_PER_DAY
    values = {"mode": Visit.Mode.HOME, "most": most, "first_id": first_id}
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        _roomy()
        cursor.execute(sql, values)
        day = []
        while rows := cursor.fetchmany(STREAM):
            for row in rows:
                if day and row[1:2] + row[3:4] != day[0][1:2] + day[0][3:4]:
                    yield _impossible(day, most)
                    day = []
                day.append(row)
        if day:
            yield _impossible(day, most)


def _impossible(rows, most) -> Found:
    first = rows[0]
    cadre_id, cadre, day, towns, households = first[1], first[2], first[3], first[6], first[7]
    day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)
    if towns > 1:
        reason = _("%(cadre)s 于 %(day)s 在 %(n)d 个乡镇（%(towns)s）都有入户走访记录") % {
            "cadre": cadre,
            "day": day,
            "n": towns,
            "towns": "、".join(sorted({row[5] for row in rows})),
        }
    else:
        reason = _("%(cadre)s 于 %(day)s 入户走访 %(n)d 户，超过每日 %(most)d 户的上限") % {
            "cadre": cadre,
            "day": day,
            "n": households,
            "most": most,
        }
    return Found(
        kind=Flag.Kind.IMPOSSIBLE_DAY,
        key=f"day:{cadre_id}:{day:%Y%m%d}",
        village_id=first[4],
        reason=reason,
        visit_ids=[row[0] for row in rows],
        cadre_id=cadre_id,
    )


# --- 外出务工户入户走访 --------------------------------------------------------------------------


def home_visits_to_households_away(first_id: int):
    """入户走访 dated on or after the day a household left to work away (Household.working_away_since)."""
    from django.db.models import F

    rows = (
        Visit.objects.filter(
            id__gte=first_id,
            mode=Visit.Mode.HOME,
            household__working_away=True,
            household__working_away_since__isnull=False,
            visited_on__gte=F("household__working_away_since"),
        )
        .order_by("id")
        .values_list(
            "id",
            "cadre_id",
            "cadre__name",
            "visited_on",
            "household__village_id",
            "household__head_name",
            "household__working_away_since",
            "household__working_away_place",
        )
    )
    for pk, cadre_id, cadre, day, village, head, since, place in rows.iterator(chunk_size=CHUNK):
        yield Found(
            kind=Flag.Kind.AWAY,
            key=f"away:{pk}",
            village_id=village,
            reason=_("%(head)s户自 %(since)s 起外出务工（%(place)s），%(cadre)s 却记录 %(day)s 入户走访")
            % {
                "head": head,
                "since": since,
                "place": place or _("地点未填"),
                "cadre": cadre,
                "day": day,
            },
            visit_ids=[pk],
            cadre_id=cadre_id,
        )


# --- 集中代录 ------------------------------------------------------------------------------------


# The sittings of one account, in SQL: a visit starts a new sitting when it is its account's first or
# comes more than the gap after the one before; a sitting is cut every BULK_RUN_MOST visits (a
# month-end marathon reads as several sittings, and no flag holds everything). Only the sittings
# with enough visits of enough cadres come back, visit by visit, in order.
#
# Every window runs over the one order (account, recorded_at, id), so the windows sort the visits
# once: the place of a visit in its sitting is its place in the account less that of the sitting's
# first visit (the last start so far), not a numbering partitioned by sitting (a second sort of
# every visit, spilled to disk at scale 1.0). Counting a part's cadres by two hash aggregates
# instead of COUNT(DISTINCT) was tried: nearly every (part, cadre) is one visit, and hashing 4.8M
# groups cost more than the sort.
BULK_SQL = """
WITH gaps AS (
    SELECT v.id, v.recorded_by_id, v.recorded_at, v.cadre_id, ROW_NUMBER() OVER w AS place,
           CASE WHEN LAG(v.id) OVER w IS NULL OR {seconds} > %(gap)s THEN 1 ELSE 0 END AS starts
    FROM {visit} v
    WHERE v.id >= %(first_id)s
    WINDOW w AS (PARTITION BY v.recorded_by_id ORDER BY v.recorded_at, v.id)
),
parts AS (
    SELECT id, recorded_by_id, recorded_at, cadre_id, SUM(starts) OVER w AS sitting,
           (place - MAX(starts * place) OVER w) / %(most)s AS part
    FROM gaps
    WINDOW w AS (PARTITION BY recorded_by_id ORDER BY recorded_at, id ROWS UNBOUNDED PRECEDING)
),
big AS (
    SELECT recorded_by_id, sitting, part FROM parts
    GROUP BY recorded_by_id, sitting, part
    HAVING COUNT(*) >= %(least)s AND COUNT(DISTINCT cadre_id) >= %(cadres)s
)
SELECT p.recorded_by_id, p.sitting, p.part, p.id, p.recorded_at, p.cadre_id
FROM parts p
JOIN big ON big.recorded_by_id = p.recorded_by_id AND big.sitting = p.sitting AND big.part = p.part
ORDER BY p.recorded_by_id, p.sitting, p.part, p.recorded_at, p.id
"""
SECONDS_SINCE_LAST = {
    "postgresql": "EXTRACT(EPOCH FROM (v.recorded_at - LAG(v.recorded_at) OVER w))",
    "sqlite": "(JULIANDAY(v.recorded_at) - JULIANDAY(LAG(v.recorded_at) OVER w)) * 86400.0",
}


def bulk_entry(first_id: int):
    """Runs of visits one account entered, each within the gap of the one before, of many cadres."""
    sql = BULK_SQL.format(visit=Visit._meta.db_table, seconds=SECONDS_SINCE_LAST[connection.vendor])
    values = {
        "first_id": first_id,
        "gap": settings.INSPECTION_BULK_MINUTES * 60,
        "most": BULK_RUN_MOST,
        "least": settings.INSPECTION_BULK_VISITS,
        "cadres": settings.INSPECTION_BULK_CADRES,
    }
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        _roomy()
        cursor.execute(sql, values)
        run = []
        while rows := cursor.fetchmany(STREAM):
            for row in rows:
                if run and row[:3] != run[0][:3]:
                    yield _bulk(run)
                    run = []
                run.append(row)
        if run:
            yield _bulk(run)


def _bulk(run) -> Found:
    first, last = run[0], run[-1]
    first_at, last_at = (_aware(row[4]) for row in (first, last))
    minutes = max(1, round((last_at - first_at).total_seconds() / 60))
    local = timezone.localtime(first_at)
    cadres = len({row[5] for row in run})
    # Read for the run's first visit only: not joined onto every visit of the table.
    village, user = (
        Visit.objects.filter(pk=first[3]).values_list("household__village_id", "recorded_by__username").get()
    )
    return Found(
        kind=Flag.Kind.BULK,
        key=f"bulk:{first[0]}:{first[3]}",
        village_id=village,
        reason=_(
            "账号 %(user)s 于 %(at)s 起 %(minutes)d 分钟内录入 %(n)d 条走访，涉及 %(cadres)d 名干部。"
            "集中录入纸质日记是乡镇的正常工作，此处仅作提示；这些走访在督查抽样中权重加大。"
        )
        % {
            "user": user,
            "at": local.strftime("%Y-%m-%d %H:%M"),
            "minutes": minutes,
            "n": len(run),
            "cadres": cadres,
        },
        visit_ids=[row[3] for row in run],
    )


def _aware(value) -> datetime.datetime:
    """A timestamp from a raw query: SQLite gives text in UTC, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


# --- 群众评议与日记不符 ---------------------------------------------------------------------------

# The answer to "今年干部到过你家几次" and the most home visits it allows.
ANSWER_MOST = {"0次": 0, "1–2次": 2, "3–5次": 5}


def ballots_against_diaries(since: datetime.date | None):
    """A household that remembers at most N visits this year while the diary records more than 2N + 1."""
    ballots = Ballot.objects.select_related("round", "sample__cadre", "household")
    if since:
        ballots = ballots.filter(collected_at__date__gte=since)
    # Streamed 500 at a time: the province's ballots (70k at scale 1.0) with their rounds, samples and
    # households held at once were most of a run's peak memory.
    for start_ballots in _chunks(ballots.order_by("id").iterator(chunk_size=500), 500):
        households = {b.household_id for b in start_ballots}
        years = {b.round.year for b in start_ballots}
        visits = defaultdict(list)
        for pk, household_id, day in (
            Visit.objects.filter(
                household_id__in=households, mode=Visit.Mode.HOME, visited_on__year__in=years
            )
            .order_by("id")
            .values_list("id", "household_id", "visited_on")
        ):
            visits[household_id].append((pk, day))
        for ballot in start_ballots:
            answer = ballot.answers.get(VISITS)
            if answer not in ANSWER_MOST:
                continue
            recorded = [
                pk
                for pk, day in visits[ballot.household_id]
                if day.year == ballot.round.year and day <= timezone.localdate(ballot.collected_at)
            ]
            most = ANSWER_MOST[answer]
            if len(recorded) <= 2 * most + 1:
                continue
            yield Found(
                kind=Flag.Kind.BALLOT,
                key=f"ballot:{ballot.pk}",
                village_id=ballot.household.village_id,
                reason=_(
                    "%(round)s中%(head)s户回答今年干部到过家里“%(answer)s”，民情日记却记录入户走访 %(n)d 次"
                )
                % {
                    "round": ballot.round.name,
                    "head": ballot.household.head_name,
                    "answer": answer,
                    "n": len(recorded),
                },
                visit_ids=recorded,
                cadre_id=ballot.sample.cadre_id,
            )


def _chunks(items, size):
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


# --- the run -------------------------------------------------------------------------------------


def _save(found: list[Found]) -> int:
    """Create the flags whose key is new, with their visits; return how many were created."""
    unique = {}
    for item in found:
        unique.setdefault(item.key, item)
    if not unique:
        return 0
    with transaction.atomic():
        existing = set(Flag.objects.filter(key__in=list(unique)).values_list("key", flat=True))
        fresh = [item for key, item in unique.items() if key not in existing]
        flags = Flag.objects.bulk_create(
            [
                Flag(
                    kind=item.kind,
                    key=item.key,
                    village_id=item.village_id,
                    cadre_id=item.cadre_id,
                    reason=item.reason,
                    similarity=item.similarity,
                )
                for item in fresh
            ],
            ignore_conflicts=True,
        )
        # ignore_conflicts gives no ids back: read them by key (a concurrent run may have won some).
        ids = dict(Flag.objects.filter(key__in=[item.key for item in fresh]).values_list("key", "id"))
        _write_links((ids[item.key], pk) for item in fresh for pk in item.visit_ids)
    return len(flags)


def _write_links(links) -> None:
    """The visits of new flags, a few thousand at a time (a first run links millions: 集中代录 names
    every visit of a sitting). COPY on PostgreSQL: the flags are new, so are their links, and one run
    at a time holds the run's lock."""
    while part := list(itertools.islice(links, LINK_BATCH)):
        if connection.vendor == "postgresql":
            text = "".join(f"{flag_id}\t{visit_id}\n" for flag_id, visit_id in part)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    f"COPY {FlagVisit._meta.db_table} (flag_id, visit_id) FROM STDIN", io.StringIO(text)
                )
        else:
            FlagVisit.objects.bulk_create(
                [FlagVisit(flag_id=flag_id, visit_id=visit_id) for flag_id, visit_id in part],
                ignore_conflicts=True,
            )


DETECTORS = (
    (Flag.Kind.COPIED, lambda first_id, since: copied_diaries(first_id)),
    (Flag.Kind.IMPOSSIBLE_DAY, lambda first_id, since: impossible_days(first_id)),
    (Flag.Kind.AWAY, lambda first_id, since: home_visits_to_households_away(first_id)),
    (Flag.Kind.BULK, lambda first_id, since: bulk_entry(first_id)),
    (Flag.Kind.BALLOT, lambda first_id, since: ballots_against_diaries(since)),
)


def run(
    *, since: datetime.date | None = None, dry_run: bool = False, log=None, from_visit_id: int | None = None
) -> dict:
    """Run every detector over the visits recorded since `since` (all when None); save new flags.

    A dry run does the same work in a transaction it rolls back: it says what it would create."""
    if dry_run:
        with transaction.atomic():
            result = _run(since=since, log=log, from_visit_id=from_visit_id)
            transaction.set_rollback(True)
        return result
    return _run(since=since, log=log, from_visit_id=from_visit_id)


RUN_LOCK = 7_150_301  # the advisory lock one run holds (PostgreSQL): cron runs never overlap


@contextlib.contextmanager
def _one_run():
    """True when this run may go on; False while another holds the lock (it says so and stops)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])


def _run(*, since, log, from_visit_id) -> dict:
    with _one_run() as alone:
        if not alone:
            return {
                "created": 0,
                "open": Flag.objects.open().count(),
                "by_kind": {str(kind): 0 for kind, _detector in DETECTORS},
                "since": since.isoformat() if since else None,
                "first_visit_id": None,
                "seconds": 0,
                "busy": True,
            }
        return _run_alone(since=since, log=log, from_visit_id=from_visit_id)


def _run_alone(*, since, log, from_visit_id) -> dict:
    began = time.perf_counter()
    # from_visit_id: the demo flags the records it made, not the whole demo year.
    first_id = from_visit_id or (first_visit_id_since(since) if since else 0)
    last_id = Visit.objects.aggregate(high=Max("id"))["high"] or 0
    created = Counter()
    for kind, detector in DETECTORS:
        step = time.perf_counter()
        batch, named = [], 0
        for found in detector(first_id, since):
            batch.append(found)
            named += len(found.visit_ids)
            if len(batch) >= CHUNK or named >= SAVE_VISITS:
                created[kind] += _save(batch)
                batch, named = [], 0
        created[kind] += _save(batch)
        if log:
            log(f"{kind}: {created[kind]} ({time.perf_counter() - step:.1f} s)")
    seconds = time.perf_counter() - began
    by_kind = {str(kind): created[kind] for kind, _detector in DETECTORS}
    FlagRun.objects.create(
        since=since,
        first_visit_id=first_id,
        last_visit_id=last_id,
        last_band_id=DiaryBand.objects.aggregate(high=Max("id"))["high"] or 0,
        created=by_kind,
        seconds=seconds,
    )
    return {
        "created": sum(created.values()),
        "open": Flag.objects.open().count(),
        "by_kind": by_kind,
        "since": since.isoformat() if since else None,
        "first_visit_id": first_id,
        "seconds": round(seconds, 1),
    }
