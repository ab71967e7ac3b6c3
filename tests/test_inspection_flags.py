"""flag_records: each kind raised by a case that should raise it and not by one that should not; a
second run creates nothing; --since looks at the newer visits only; --json prints one object."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inspections import diaries, flags
from inspections.models import DiaryBand, Flag, FlagRun
from tests import factories as f
from visits.models import Visit

DAY = datetime.date(2025, 5, 6)
DIARY = "今天到王建国家走访，了解到他家今年种植马铃薯五亩，长势良好，孩子在县城读高中，宣传了教育资助政策。"
OTHER = (
    "电话联系赵德胜，询问其在新疆务工情况，工资按时发放，提醒注意安全并按时参加医保缴费，家中老人身体尚好。"
)


def visit(household, cadre, by, day=DAY, mode=Visit.Mode.HOME, diary="", **fields):
    return Visit.objects.create(
        household=household, cadre=cadre, visited_on=day, mode=mode, diary=diary, recorded_by=by, **fields
    )


def flagged(kind):
    return list(Flag.objects.filter(kind=kind))


def run(**kwargs):
    return flags.run(**kwargs)


# --- 雷同日记 -------------------------------------------------------------------------------------


def test_shingles_are_character_trigrams_without_punctuation():
    assert diaries.shingles("走访，王家") == {"走访王", "访王家"}
    assert diaries.jaccard(diaries.shingles(DIARY), diaries.shingles(DIARY + "。")) == 1.0


def test_a_nearly_copied_diary_is_flagged_with_its_similarity(world):
    other = f.household(world.village_a, "李有田")
    f.pairing(world.cadre_a, other)
    first = visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    # The same text with a name changed and punctuation moved: not an exact match, still a copy.
    second = visit(
        other, world.cadre_a, world.users.town_a, DAY.replace(day=9), diary=DIARY.replace("王建国", "李有田")
    )
    assert run()["created"] >= 1
    (flag,) = flagged(Flag.Kind.COPIED)
    assert {v.pk for v in flag.visits.all()} == {first.pk, second.pk}
    assert flag.similarity >= 0.7 and "本人" in flag.reason and "%" in flag.reason
    assert flag.village_id == world.village_a.pk


def test_different_diaries_and_short_boilerplate_are_not_flagged(world):
    other = f.household(world.village_a, "李有田")
    f.pairing(world.cadre_a, other)
    visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    visit(other, world.cadre_a, world.users.town_a, diary=OTHER)
    # Short boilerplate is what every cadre writes: identical, and not a sign of anything.
    visit(
        world.household_a, world.cadre_a, world.users.town_a, DAY.replace(day=20), diary="电话联系，了解近况"
    )
    visit(other, world.cadre_a, world.users.town_a, DAY.replace(day=20), diary="电话联系，了解近况")
    run()
    assert flagged(Flag.Kind.COPIED) == []


def test_a_run_stopped_after_writing_bands_leaves_them_for_the_next(world, monkeypatch):
    other = f.household(world.village_a, "李有田")
    f.pairing(world.cadre_a, other)
    visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    visit(
        other, world.cadre_a, world.users.town_a, DAY.replace(day=9), diary=DIARY.replace("王建国", "李有田")
    )

    def stopped(floor):
        raise KeyboardInterrupt  # killed between fingerprinting and comparing
        yield

    monkeypatch.setattr(flags, "_verify", stopped)
    with pytest.raises(KeyboardInterrupt):
        run()
    assert DiaryBand.objects.exists() and not FlagRun.objects.exists()
    monkeypatch.undo()
    run()
    assert len(flagged(Flag.Kind.COPIED)) == 1
    assert run()["created"] == 0


def test_copies_across_cadres_name_the_other_cadre(world):
    visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    visit(world.household_b, world.cadre_b, world.users.town_b, diary=DIARY + "下一步继续跟进。")
    run()
    (flag,) = flagged(Flag.Kind.COPIED)
    assert world.cadre_a.name in flag.reason or world.cadre_b.name in flag.reason
    assert "本人" not in flag.reason


# --- 不可能的一天 ---------------------------------------------------------------------------------


def test_home_visits_in_two_townships_on_one_day_are_an_impossible_day(world):
    far = f.household(world.village_a2, "孙有才")
    f.pairing(world.cadre_a, far)
    visit(world.household_a, world.cadre_a, world.users.town_a)
    visit(far, world.cadre_a, world.users.town_a)
    run()
    (flag,) = flagged(Flag.Kind.IMPOSSIBLE_DAY)
    assert "2 个乡镇" in flag.reason and world.town_a.name in flag.reason and flag.links.count() == 2


def test_two_townships_on_different_days_or_by_phone_are_not(world):
    far = f.household(world.village_a2, "孙有才")
    f.pairing(world.cadre_a, far)
    visit(world.household_a, world.cadre_a, world.users.town_a)
    visit(far, world.cadre_a, world.users.town_a, DAY.replace(day=7))
    visit(far, world.cadre_a, world.users.town_a, mode=Visit.Mode.PHONE)  # a call reaches any township
    run()
    assert flagged(Flag.Kind.IMPOSSIBLE_DAY) == []


def test_more_households_in_a_day_than_the_setting_allows(world, settings):
    settings.INSPECTION_MAX_HOUSEHOLDS_PER_DAY = 2
    for name in ("甲", "乙"):
        household = f.household(world.village_a, f"张{name}")
        f.pairing(world.cadre_a, household)
        visit(household, world.cadre_a, world.users.town_a)
    visit(world.household_a, world.cadre_a, world.users.town_a, DAY.replace(day=7))
    run()
    assert flagged(Flag.Kind.IMPOSSIBLE_DAY) == []  # two on one day: within the limit
    visit(world.household_a, world.cadre_a, world.users.town_a)
    run()
    (flag,) = flagged(Flag.Kind.IMPOSSIBLE_DAY)
    assert "3 户" in flag.reason and "2 户" in flag.reason


# --- 外出务工户入户走访 ---------------------------------------------------------------------------


def test_a_home_visit_to_a_household_away_on_that_date(world):
    household = world.household_a
    household.working_away, household.working_away_since = True, DAY.replace(month=3)
    household.working_away_place = "新疆乌鲁木齐市"
    household.save()
    before = visit(household, world.cadre_a, world.users.town_a, DAY.replace(month=2))  # still at home then
    phone = visit(household, world.cadre_a, world.users.town_a, mode=Visit.Mode.PHONE)  # the right way
    home = visit(household, world.cadre_a, world.users.town_a)
    run()
    (flag,) = flagged(Flag.Kind.AWAY)
    assert [v.pk for v in flag.visits.all()] == [home.pk]
    assert "新疆乌鲁木齐市" in flag.reason
    assert before.pk != home.pk != phone.pk


# --- 集中代录 -------------------------------------------------------------------------------------


def _proxy_entries(world, *, cadres, per_cadre, minutes_apart):
    households = []
    for index in range(cadres):
        cadre = f.cadre(world.unit_a, f"干部{index}")
        household = f.household(world.village_a, f"户{index}")
        f.pairing(cadre, household)
        households.append((household, cadre))
    start = timezone.now() - datetime.timedelta(days=1)
    made = []
    for index in range(per_cadre):
        for household, cadre in households:
            made.append(visit(household, cadre, world.users.town_a, DAY.replace(day=1 + index)))
    for step, row in enumerate(made):
        Visit.objects.filter(pk=row.pk).update(
            recorded_at=start + datetime.timedelta(minutes=minutes_apart * step)
        )
    return made


def test_many_visits_of_many_cadres_entered_within_minutes(world, settings):
    settings.INSPECTION_BULK_VISITS, settings.INSPECTION_BULK_CADRES = 10, 3
    made = _proxy_entries(world, cadres=4, per_cadre=3, minutes_apart=1)
    run()
    (flag,) = flagged(Flag.Kind.BULK)
    assert flag.links.count() == len(made) == 12
    assert not flag.blames and "正常工作" in flag.reason


def test_the_same_number_entered_over_hours_is_not_bulk(world, settings):
    settings.INSPECTION_BULK_VISITS, settings.INSPECTION_BULK_CADRES = 10, 3
    _proxy_entries(world, cadres=4, per_cadre=3, minutes_apart=30)
    run()
    assert flagged(Flag.Kind.BULK) == []


# --- 群众评议与日记不符 ---------------------------------------------------------------------------


def _ballot(world, answer):
    from evaluation import services

    today = timezone.localdate()
    round_ = services.open_round(
        by=world.users.county_a,
        region=world.county_a,
        name="群众评议",
        year=today.year,
        starts_on=today,
        ends_on=today,
        sample_method="全部",
        seed=1,
    )
    collector = services.register_collector(
        by=world.users.county_a,
        user=world.users.county_a,
        region=world.county_a,
        kind="工作人员",
        name="县双联办",
    )
    sample = round_.samples.get(household=world.household_a)
    services.assign_collector(by=world.users.county_a, round_=round_, collector=collector, samples=[sample])
    from evaluation.models import Ballot

    return Ballot.objects.create(
        round=round_,
        household=world.household_a,
        sample=sample,
        collector=collector,
        collected_at=timezone.now(),
        mode="入户",
        answers={"satisfaction": "满意", "visits": answer, "violation": "无"},
    )


@pytest.mark.parametrize(("answer", "raised"), [("0次", True), ("3–5次", False)])
def test_a_ballot_that_remembers_no_visit_against_a_diary_of_several(world, answer, raised):
    year = timezone.localdate().year
    for month in (1, 2, 3):
        visit(world.household_a, world.cadre_a, world.users.town_a, datetime.date(year, month, 5))
    _ballot(world, answer)
    run()
    found = flagged(Flag.Kind.BALLOT)
    assert bool(found) is raised
    if raised:
        assert "0次" in found[0].reason and "3 次" in found[0].reason


# --- the run --------------------------------------------------------------------------------------


def test_a_second_run_creates_nothing_and_json_reports_created_and_open(world):
    far = f.household(world.village_a2, "孙有才")
    f.pairing(world.cadre_a, far)
    visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    visit(far, world.cadre_a, world.users.town_a, diary=DIARY)
    out = StringIO()
    call_command("flag_records", "--json", stdout=out)
    first = json.loads(out.getvalue())
    assert first["created"] == 2 and first["open"] == 2  # a copy and an impossible day
    out = StringIO()
    call_command("flag_records", "--json", stdout=out)
    second = json.loads(out.getvalue())
    assert second["created"] == 0 and second["open"] == 2
    assert Flag.objects.count() == 2


def test_a_dry_run_saves_nothing(world):
    far = f.household(world.village_a2, "孙有才")
    f.pairing(world.cadre_a, far)
    visit(world.household_a, world.cadre_a, world.users.town_a)
    visit(far, world.cadre_a, world.users.town_a)
    assert flags.run(dry_run=True)["created"] == 1
    assert Flag.objects.count() == 0


def test_since_looks_at_the_visits_recorded_since_and_still_compares_them_with_older_ones(world):
    old = visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    Visit.objects.filter(pk=old.pk).update(recorded_at=timezone.now() - datetime.timedelta(days=10))
    flags.run()
    assert Flag.objects.count() == 0
    today = timezone.localdate()
    assert flags.first_visit_id_since(today) == old.pk + 1
    new = visit(world.household_b, world.cadre_b, world.users.town_b, diary=DIARY)
    assert flags.first_visit_id_since(today) == new.pk
    result = flags.run(since=today)
    assert result["created"] == 1 and result["first_visit_id"] == new.pk
    (flag,) = flagged(Flag.Kind.COPIED)
    assert {v.pk for v in flag.visits.all()} == {old.pk, new.pk}


def test_since_a_day_after_the_last_visit_looks_at_nothing(world):
    visit(world.household_a, world.cadre_a, world.users.town_a)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert flags.first_visit_id_since(tomorrow) == Visit.objects.get().pk + 1


def test_a_bad_since_is_refused_in_words():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("flag_records", "--since", "yesterday")


# --- 雷同日记 at scale ----------------------------------------------------------------------------


def _datasketch_bands(text):
    """The band keys as first written: one datasketch MinHash per diary, each band's hash values
    BLAKE2b'd with the band's index (stored bands stay valid only while Signer gives these)."""
    import hashlib

    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=diaries.threshold(), num_perm=diaries.NUM_PERM)
    sketch = MinHash(num_perm=diaries.NUM_PERM, seed=diaries.SEED)
    sketch.update_batch([s.encode("utf-8") for s in diaries.shingles(text)])
    keys = []
    for index, (start, end) in enumerate(lsh.hashranges):
        digest = hashlib.blake2b(
            sketch.hashvalues[start:end].tobytes(), digest_size=8, person=bytes([index]) * 8
        )
        keys.append(int.from_bytes(digest.digest(), "big", signed=True))
    return keys


def test_the_signer_gives_datasketchs_bands_for_every_diary(monkeypatch):
    texts = [DIARY, OTHER, DIARY.replace("王建国", "李有田"), "Ａｂｃ＿１２３，走访_王家！" * 3, "走访" * 40]
    texts += [f"{DIARY[i:]}{OTHER[: 2 * i]}" for i in range(0, 40, 3)]
    assert diaries.Signer().bands(texts) == [_datasketch_bands(text) for text in texts]
    # A full vocabulary starts again and still signs alike.
    monkeypatch.setattr(diaries.Signer, "VOCABULARY", 50)
    assert diaries.Signer().bands(texts) == [_datasketch_bands(text) for text in texts]
    assert diaries.bands(DIARY) == _datasketch_bands(DIARY)
    assert diaries.Signer().fingerprint(DIARY) == _datasketch_bands(DIARY)
    assert diaries.Signer().fingerprint("电话联系，了解近况") == []  # boilerplate: not compared


def test_a_band_shared_very_widely_offers_its_earliest_yet_a_near_copy_is_found(world, monkeypatch):
    # A template pasted by many: each band of it is held by all of them (more than HOT_BAND), so each
    # later copy is offered the earliest HOT_BAND_SAMPLE only, not every other copy (n², noise).
    monkeypatch.setattr(diaries, "HOT_BAND", 3)
    monkeypatch.setattr(diaries, "HOT_BAND_SAMPLE", 1)
    days = [DAY + datetime.timedelta(days=n) for n in range(7)]
    template = [
        visit(world.household_a, world.cadre_a, world.users.town_a, day, diary=OTHER) for day in days[:6]
    ]
    original = visit(world.household_b, world.cadre_b, world.users.town_b, days[0], diary=DIARY)
    copy = visit(
        world.household_b, world.cadre_b, world.users.town_b, days[1], diary=DIARY.replace("王建国", "李有田")
    )
    offered = {}
    compare = flags._compare

    def recording(candidates):
        offered.update(candidates)
        yield from compare(candidates)

    monkeypatch.setattr(flags, "_compare", recording)
    run()
    for later in template[1:]:
        assert offered[later.pk] == [template[0].pk]
    assert offered[copy.pk] == [original.pk]
    keys = set(Flag.objects.filter(kind=Flag.Kind.COPIED).values_list("key", flat=True))
    assert f"copy:{original.pk}:{copy.pk}" in keys
    assert {f"copy:{template[0].pk}:{later.pk}" for later in template[1:]} <= keys


def test_a_first_run_reads_only_bands_held_twice_and_pairs_as_a_daily_run_would(world):
    for day, text in enumerate([DIARY, OTHER, DIARY.replace("王建国", "李有田"), OTHER + "下一步继续跟进。"]):
        visit(
            world.household_a,
            world.cadre_a,
            world.users.town_a,
            DAY + datetime.timedelta(days=day),
            diary=text,
        )
    flags._fingerprint(0)
    from django.db import connection

    values = {"floor": 0, "hot": diaries.HOT_BAND, "sample": diaries.HOT_BAND_SAMPLE, "most": 10}
    every_band = flags.CANDIDATES_SQL.format(
        band=DiaryBand._meta.db_table, bands=flags.NEW_BANDS_SQL.format(band=DiaryBand._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(flags._candidates_sql(0), values)
        first = cursor.fetchall()
        cursor.execute(every_band, values)
        assert first == cursor.fetchall()
    assert len(first) == 2  # each near-copy with its original


def test_deleting_a_visit_deletes_its_bands(world):
    kept = visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    gone = visit(world.household_b, world.cadre_b, world.users.town_b, diary=OTHER)
    run()
    assert DiaryBand.objects.filter(visit_id=gone.pk).count() == len(diaries.bands(OTHER))
    Visit.objects.filter(pk=gone.pk).delete()
    assert not DiaryBand.objects.filter(visit_id=gone.pk).exists()
    assert DiaryBand.objects.filter(visit_id=kept.pk).exists()


def test_each_diarys_best_candidate_is_flagged_as_comparing_every_pair_would(
    world, django_assert_num_queries
):
    texts = [
        DIARY,
        DIARY.replace("王建国", "李有田"),
        DIARY + "下一步继续跟进。",
        DIARY[:40],
        DIARY[: len(DIARY) * 3 // 4],
        OTHER,
        OTHER + DIARY[:10],
        DIARY[5:] + OTHER[:5],
    ]
    made = [
        visit(
            world.household_a, world.cadre_a, world.users.town_a, DAY + datetime.timedelta(days=n), diary=text
        )
        for n, text in enumerate(texts)
    ]
    ids = [row.pk for row in made]
    candidates = {pk: [other for other in reversed(ids) if other != pk] for pk in ids}
    grams = {row.pk: diaries.shingles(row.diary) for row in made}
    expected = {}
    for pk, others in candidates.items():
        score, best = max((diaries.jaccard(grams[pk], grams[other]), -other) for other in others)
        if score >= diaries.threshold():
            low, high = sorted((pk, -best))
            expected[f"copy:{low}:{high}"] = round(score, 3)
    with django_assert_num_queries(2):  # the texts, then the details of the flagged pairs
        found = list(flags._compare(candidates))
    assert {item.key: item.similarity for item in found} == expected
    assert len(expected) >= 3 and min(expected.values()) < 1  # copies found, not only identical ones


def _band_indexes():
    from django.db import connection

    with connection.cursor() as cursor:
        present = connection.introspection.get_constraints(cursor, DiaryBand._meta.db_table)
    return {"diaryband_band", "diaryband_once"} & set(present)


@pytest.mark.django_db(transaction=True)
def test_a_first_run_loads_bands_before_indexing_them_and_a_stopped_one_gets_them_back(world, monkeypatch):
    from django.db import connection

    other = f.household(world.village_a, "李有田")
    f.pairing(world.cadre_a, other)
    first = visit(world.household_a, world.cadre_a, world.users.town_a, diary=DIARY)
    copy = visit(
        other, world.cadre_a, world.users.town_a, DAY.replace(day=9), diary=DIARY.replace("王建国", "李有田")
    )

    def stopped(rows):
        raise KeyboardInterrupt  # killed while loading the bands of a first run

    monkeypatch.setattr(flags, "_write_bands", stopped)
    with pytest.raises(KeyboardInterrupt):
        run()
    if connection.vendor == "postgresql":  # loaded without indexes (SQLite keeps them: small loads)
        assert _band_indexes() == set()
    monkeypatch.undo()
    assert run()["created"] == 1
    assert _band_indexes() == {"diaryband_band", "diaryband_once"}
    (flag,) = flagged(Flag.Kind.COPIED)
    assert {v.pk for v in flag.visits.all()} == {first.pk, copy.pk}
    assert DiaryBand.objects.filter(visit_id=copy.pk).count() == len(diaries.bands(copy.diary))
    assert run()["created"] == 0


# The 集中代录 query as first written (a second sort numbering each sitting, COUNT(DISTINCT)): the
# query now sorts once and must find the same sittings, parts and visits.
WINDOWED_TWICE_BULK_SQL = """
WITH gaps AS (
    SELECT v.id, v.recorded_by_id, v.recorded_at, v.cadre_id,
           CASE WHEN LAG(v.id) OVER w IS NULL OR {seconds} > %(gap)s THEN 1 ELSE 0 END AS starts
    FROM {visit} v
    WHERE v.id >= %(first_id)s
    WINDOW w AS (PARTITION BY v.recorded_by_id ORDER BY v.recorded_at, v.id)
),
runs AS (
    SELECT id, recorded_by_id, recorded_at, cadre_id,
           SUM(starts) OVER (PARTITION BY recorded_by_id ORDER BY recorded_at, id ROWS UNBOUNDED PRECEDING)
               AS sitting
    FROM gaps
),
parts AS (
    SELECT id, recorded_by_id, recorded_at, cadre_id, sitting,
           (ROW_NUMBER() OVER (PARTITION BY recorded_by_id, sitting ORDER BY recorded_at, id) - 1) / %(most)s
               AS part
    FROM runs
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


def test_bulk_entry_sorting_once_finds_what_the_query_sorting_twice_found(world, settings):
    import random

    from django.db import connection

    cadres = [world.cadre_a, world.cadre_b] + [f.cadre(world.unit_a, f"干部{n}") for n in range(3)]
    clerks = [world.users.town_a, world.users.town_b]
    chosen = random.Random(15)
    start = timezone.now() - datetime.timedelta(days=3)
    made = []
    for step in range(160):
        day = DAY + datetime.timedelta(days=step)  # one visit a day each: unique by cadre, household and day
        made.append((visit(world.household_a, chosen.choice(cadres), chosen.choice(clerks), day), step))
    at = {clerk.pk: start for clerk in clerks}
    for row, _step in made:
        # Gaps of seconds to hours: sittings of every length, some cut into several parts.
        at[row.recorded_by_id] += datetime.timedelta(minutes=chosen.choice([0, 1, 2, 5, 9, 11, 60]))
        Visit.objects.filter(pk=row.pk).update(recorded_at=at[row.recorded_by_id])
    values = {"first_id": 0, "gap": 600, "most": 7, "least": 4, "cadres": 3}
    tables = {"visit": Visit._meta.db_table, "seconds": flags.SECONDS_SINCE_LAST[connection.vendor]}
    with connection.cursor() as cursor:
        cursor.execute(WINDOWED_TWICE_BULK_SQL.format(**tables), values)
        before = cursor.fetchall()
        cursor.execute(flags.BULK_SQL.format(**tables), values)
        now = cursor.fetchall()
    assert now == before
    assert len({row[:3] for row in now}) >= 3 and any(row[2] > 0 for row in now)  # parts were cut
