"""The detectors behind `manage.py flag_records`: each yields what it found, `run` saves the new ones.

A flag's `key` names the kind and the records (雷同日记 the pair, 不可能的一天 the cadre and day, …),
so a run that finds again what an earlier one found creates nothing: the command is safe to run
from cron as often as one likes.

An incremental run (`since`) looks at the visits recorded since that day, found by id: a visit's
recorded_at is stamped at insert, so ids and recorded_at rise together and the first id recorded
since the day is found by bisection over the primary key (about 25 look-ups) rather than by a
scan of recorded_at, which has no index. Each new visit is still compared with every earlier one
where the kind needs it (its diary's LSH bands, its cadre's whole day).
"""

import datetime
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import Ballot
from evaluation.questionnaire import VISITS
from visits.models import Visit

from . import diaries
from .models import DiaryBand, Flag, FlagRun, FlagVisit

CHUNK = 1000
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


def _id_chunks(queryset, size=CHUNK):
    """Rows of a `values_list` queryset whose first column is the visit id, in id order, a chunk at a time
    (keyset pagination: memory stays bounded whatever the table's size)."""
    last = 0
    while True:
        rows = list(queryset.filter(id__gt=last).order_by("id")[:size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


# --- 雷同日记 ------------------------------------------------------------------------------------


def copied_diaries(first_id: int):
    """Each new diary against every fingerprinted one: the best candidate at or over the threshold."""
    new = Visit.objects.filter(id__gte=first_id).exclude(diary="").values_list("id", "diary")
    for rows in _id_chunks(new):
        # A diary fingerprinted by an earlier run was compared then with every earlier diary, and each
        # later one is compared with it when its own turn comes: it is skipped, so a repeated run
        # (or an overlapping --since) reads the table but hashes nothing.
        done = set(
            DiaryBand.objects.filter(visit_id__in=[pk for pk, _text in rows]).values_list(
                "visit_id", flat=True
            )
        )
        texts = {pk: text for pk, text in rows if pk not in done and diaries.fingerprintable(text)}
        if not texts:
            continue
        bands = {pk: diaries.bands(text) for pk, text in texts.items()}
        DiaryBand.objects.bulk_create(
            [DiaryBand(visit_id=pk, band=band) for pk, keys in bands.items() for band in keys],
            ignore_conflicts=True,
            batch_size=5000,
        )
        yield from _verify(texts, bands)


def _candidates(bands: dict[int, list[int]]) -> dict[int, Counter]:
    """For each diary, the other diaries sharing a band with it, counted by the bands shared."""
    keys = {band for values in bands.values() for band in values}
    members = defaultdict(list)
    hot = set(
        DiaryBand.objects.filter(band__in=keys)
        .values("band")
        .annotate(n=Count("id"))
        .filter(n__gt=diaries.HOT_BAND)
        .values_list("band", flat=True)
    )
    for band, visit_id in DiaryBand.objects.filter(band__in=keys - hot).values_list("band", "visit_id"):
        members[band].append(visit_id)
    for band in hot:
        members[band] = list(
            DiaryBand.objects.filter(band=band)
            .order_by("visit_id")
            .values_list("visit_id", flat=True)[: diaries.HOT_BAND_SAMPLE]
        )
    found = {}
    for pk, values in bands.items():
        counted = Counter(other for band in values for other in members[band] if other != pk)
        found[pk] = counted
    return found


def _verify(texts: dict[int, str], bands: dict[int, list[int]]):
    candidates = _candidates(bands)
    wanted = {
        other for counted in candidates.values() for other, _n in counted.most_common(CANDIDATES_PER_DIARY)
    }
    columns = ("id", "diary", "cadre_id", "cadre__name", "visited_on", "household__village_id")
    rows = {row[0]: row for row in Visit.objects.filter(id__in=wanted | set(texts)).values_list(*columns)}
    limit = diaries.threshold()
    for pk in texts:
        mine = diaries.shingles(texts[pk])
        best, best_score = None, 0.0
        for other, _n in candidates[pk].most_common(CANDIDATES_PER_DIARY):
            if other not in rows:
                continue
            score = diaries.jaccard(mine, diaries.shingles(rows[other][1]))
            if score > best_score or (score == best_score and best is not None and other < best):
                best, best_score = other, score
        if best is None or best_score < limit:
            continue
        this, that = rows[pk], rows[best]
        same = this[2] == that[2]
        reason = _("%(day)s %(cadre)s 的民情日记与%(whose)s %(other_day)s 的日记相似度 %(percent)d%%") % {
            "day": this[4],
            "cadre": this[3],
            "whose": _("本人") if same else that[3],
            "other_day": that[4],
            "percent": round(best_score * 100),
        }
        low, high = sorted((pk, best))
        yield Found(
            kind=Flag.Kind.COPIED,
            key=f"copy:{low}:{high}",
            village_id=this[5],
            reason=reason,
            visit_ids=[low, high],
            cadre_id=this[2],
            similarity=round(best_score, 3),
        )


# --- 不可能的一天 --------------------------------------------------------------------------------


def impossible_days(first_id: int):
    """A cadre's home visits of one day in villages of different townships, or more than the limit."""
    home = Visit.objects.filter(mode=Visit.Mode.HOME)
    most = settings.INSPECTION_MAX_HOUSEHOLDS_PER_DAY
    grouped = (
        home.order_by()
        .values("cadre_id", "visited_on")
        .annotate(
            towns=Count(Substr("household__village_id", 1, 9), distinct=True),
            households=Count("household_id", distinct=True),
        )
        .filter(Q(towns__gt=1) | Q(households__gt=most))
    )
    if first_id:
        days = set(home.filter(id__gte=first_id).order_by().values_list("cadre_id", "visited_on").distinct())
        cadres = sorted({cadre for cadre, _day in days})
        bad = []
        for start in range(0, len(cadres), 500):
            part = cadres[start : start + 500]
            members = set(part)
            earliest = min(day for cadre, day in days if cadre in members)
            bad += [
                row
                for row in grouped.filter(cadre_id__in=part, visited_on__gte=earliest)
                if (row["cadre_id"], row["visited_on"]) in days
            ]
    else:
        bad = list(grouped)
    for start in range(0, len(bad), 200):
        part = bad[start : start + 200]
        where = Q(pk__in=[])
        for row in part:
            where |= Q(cadre_id=row["cadre_id"], visited_on=row["visited_on"])
        visits = defaultdict(list)
        for row in (
            home.filter(where)
            .order_by("id")
            .values(
                "id",
                "cadre_id",
                "cadre__name",
                "visited_on",
                "household__village_id",
                "household__village__parent__name",
            )
        ):
            visits[(row["cadre_id"], row["visited_on"])].append(row)
        for row in part:
            rows = visits[(row["cadre_id"], row["visited_on"])]
            if not rows:
                continue
            towns = sorted({r["household__village__parent__name"] for r in rows})
            if row["towns"] > 1:
                reason = _("%(cadre)s 于 %(day)s 在 %(n)d 个乡镇（%(towns)s）都有入户走访记录") % {
                    "cadre": rows[0]["cadre__name"],
                    "day": row["visited_on"],
                    "n": row["towns"],
                    "towns": "、".join(towns),
                }
            else:
                reason = _("%(cadre)s 于 %(day)s 入户走访 %(n)d 户，超过每日 %(most)d 户的上限") % {
                    "cadre": rows[0]["cadre__name"],
                    "day": row["visited_on"],
                    "n": row["households"],
                    "most": most,
                }
            yield Found(
                kind=Flag.Kind.IMPOSSIBLE_DAY,
                key=f"day:{row['cadre_id']}:{row['visited_on']:%Y%m%d}",
                village_id=rows[0]["household__village_id"],
                reason=reason,
                visit_ids=[r["id"] for r in rows],
                cadre_id=row["cadre_id"],
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


def bulk_entry(first_id: int):
    """Runs of visits one account entered, each within the gap of the one before, of many cadres."""
    gap = datetime.timedelta(minutes=settings.INSPECTION_BULK_MINUTES)
    least, cadres_least = settings.INSPECTION_BULK_VISITS, settings.INSPECTION_BULK_CADRES
    rows = (
        Visit.objects.filter(id__gte=first_id)
        .order_by("recorded_by_id", "recorded_at", "id")
        .values_list(
            "recorded_by_id",
            "recorded_at",
            "id",
            "cadre_id",
            "household__village_id",
            "recorded_by__username",
        )
    )
    run = []

    def finish(run):
        if len(run) < least or len({r[3] for r in run}) < cadres_least:
            return None
        first, last = run[0], run[-1]
        minutes = max(1, round((last[1] - first[1]).total_seconds() / 60))
        local = timezone.localtime(first[1])
        return Found(
            kind=Flag.Kind.BULK,
            key=f"bulk:{first[0]}:{first[2]}",
            village_id=first[4],
            reason=_(
                "账号 %(user)s 于 %(at)s 起 %(minutes)d 分钟内录入 %(n)d 条走访，涉及 %(cadres)d 名干部。"
                "集中录入纸质日记是乡镇的正常工作，此处仅作提示；这些走访在督查抽样中权重加大。"
            )
            % {
                "user": first[5],
                "at": local.strftime("%Y-%m-%d %H:%M"),
                "minutes": minutes,
                "n": len(run),
                "cadres": len({r[3] for r in run}),
            },
            visit_ids=[r[2] for r in run],
        )

    for row in rows.iterator(chunk_size=5000):
        # A very long run is cut into flags of BULK_RUN_MOST visits: memory stays bounded, and a
        # month-end marathon reads as several sittings rather than one flag of everything.
        if run and (row[0] != run[-1][0] or row[1] - run[-1][1] > gap or len(run) >= BULK_RUN_MOST):
            found = finish(run)
            if found:
                yield found
            run = []
        run.append(row)
    if run:
        found = finish(run)
        if found:
            yield found


# --- 群众评议与日记不符 ---------------------------------------------------------------------------

# The answer to "今年干部到过你家几次" and the most home visits it allows.
ANSWER_MOST = {"0次": 0, "1–2次": 2, "3–5次": 5}


def ballots_against_diaries(since: datetime.date | None):
    """A household that remembers at most N visits this year while the diary records more than 2N + 1."""
    ballots = Ballot.objects.select_related("round", "sample__cadre", "household")
    if since:
        ballots = ballots.filter(collected_at__date__gte=since)
    for start_ballots in _chunks(list(ballots.order_by("id")), 500):
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
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        FlagVisit.objects.bulk_create(
            [FlagVisit(flag_id=ids[item.key], visit_id=pk) for item in fresh for pk in item.visit_ids],
            ignore_conflicts=True,
            batch_size=5000,
        )
    return len(flags)


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


def _run(*, since, log, from_visit_id) -> dict:
    began = time.perf_counter()
    # from_visit_id: the demo flags the records it made, not the whole demo year.
    first_id = from_visit_id or (first_visit_id_since(since) if since else 0)
    last_id = Visit.objects.aggregate(high=Max("id"))["high"] or 0
    created = Counter()
    for kind, detector in DETECTORS:
        step = time.perf_counter()
        batch = []
        for found in detector(first_id, since):
            batch.append(found)
            if len(batch) >= CHUNK:
                created[kind] += _save(batch)
                batch = []
        created[kind] += _save(batch)
        if log:
            log(f"{kind}: {created[kind]} ({time.perf_counter() - step:.1f} s)")
    seconds = time.perf_counter() - began
    by_kind = {str(kind): created[kind] for kind, _detector in DETECTORS}
    FlagRun.objects.create(
        since=since, first_visit_id=first_id, last_visit_id=last_id, created=by_kind, seconds=seconds
    )
    return {
        "created": sum(created.values()),
        "open": Flag.objects.open().count(),
        "by_kind": by_kind,
        "since": since.isoformat() if since else None,
        "first_visit_id": first_id,
        "seconds": round(seconds, 1),
    }
