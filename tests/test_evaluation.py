"""Mass evaluation: the draw, collectors, ballots, substitutes and the scores (evaluation app)."""

import datetime
import math
import random
from collections import defaultdict

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from evaluation import sampling, scores, services
from evaluation.models import Ballot, BallotCorrection, Round, SampledHousehold
from evaluation.scores import CadreScore
from plans.models import HouseholdPlan
from tests import factories as f
from visits import tallies
from visits.models import Visit

GOOD_ANSWERS = {"satisfaction": "满意", "visits": "3–5次", "violation": "无"}


@pytest.fixture
def county(world):
    """County A with two more units' cadres, each helping several poor households in village A."""
    unit_c = f.unit(world.county_a, "通渭县教育局", level="county")
    cadres = [world.cadre_a] + [f.cadre(world.unit_a, f"干部甲{i}") for i in range(2)]
    cadres += [f.cadre(unit_c, f"干部丙{i}") for i in range(3)]
    for index, cadre in enumerate(cadres):
        for n in range(4 + index % 3):
            f.pairing(
                cadre, f.household(world.village_a if n % 2 else world.village_a2, f"户{index}{n}", members=1)
            )
    world.unit_c, world.cadres = unit_c, cadres
    return world


def _open(w, **options):
    today = timezone.localdate()
    defaults = {
        "by": w.users.county_a,
        "region": w.county_a,
        "name": "2026年群众评议",
        "year": today.year,
        "starts_on": today - datetime.timedelta(days=1),
        "ends_on": today + datetime.timedelta(days=30),
        "sample_method": Round.SampleMethod.ALL,
        "seed": 20260101,
    }
    return services.open_round(**{**defaults, **options})


def _collector(w, username, unit=None):
    account = f.user(username)
    return services.register_collector(
        by=w.users.county_a, user=account, region=w.county_a, kind="志愿者", name=username, unit=unit
    )


def _drawn(round_):
    return list(
        round_.samples.order_by("group_key", "order").values_list("group_key", "order", "household_id")
    )


# --- The draw ---------------------------------------------------------------------------------


def test_the_draw_repeats_from_its_seed(county):
    first = _open(county, sample_method=Round.SampleMethod.PER_CADRE, sample_parameter=2, seed=7)
    again = _open(county, sample_method=Round.SampleMethod.PER_CADRE, sample_parameter=2, seed=7)
    other = _open(county, sample_method=Round.SampleMethod.PER_CADRE, sample_parameter=2, seed=8)
    assert _drawn(first) == _drawn(again)
    assert _drawn(first) != _drawn(other)
    # Anyone repeating it by hand: sort the candidates by head's ID, shuffle with "<seed>:<cadre id>".
    for cadre in county.cadres:
        helped = sorted(
            (p.household.head_id_number, p.household_id) for p in cadre.pairings.select_related("household")
        )
        random.Random(f"7:{cadre.pk}").shuffle(helped)
        drawn = set(first.samples.filter(cadre=cadre).values_list("household_id", flat=True))
        assert drawn == {household_id for _, household_id in helped[:2]}


def test_each_method_draws_its_size(county):
    everyone = _open(county)
    assert everyone.samples.count() == 1 + sum(4 + i % 3 for i in range(6))  # household_a too
    share = _open(county, sample_method=Round.SampleMethod.PER_VILLAGE, sample_parameter=30)
    for village in (county.village_a, county.village_a2):
        in_village = sum(1 for c in sampling.candidates(share) if c.village_id == village.code)
        assert share.samples.filter(household__village=village).count() == math.ceil(in_village * 0.3)
    assert everyone.questions.count() == 5


def test_only_an_office_in_scope_opens_a_round(county):
    with pytest.raises(PermissionDenied):
        _open(county, by=county.users.town_a)
    with pytest.raises(ValidationError):
        _open(county, by=county.users.county_b)


# --- Collectors and ballots ----------------------------------------------------------------------


def test_a_collector_of_the_cadres_unit_is_refused_by_the_service_and_the_database(county):
    round_ = _open(county)
    own = _collector(county, "own", unit=county.unit_a)
    sample = round_.samples.get(cadre=county.cadre_a, household=county.household_a)
    with pytest.raises(ValidationError, match="不能评议本单位干部"):
        services.assign_collector(by=county.users.county_a, round_=round_, collector=own, samples=[sample])
    assert not round_.samples.filter(collector__isnull=False).exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        SampledHousehold.objects.filter(pk=sample.pk).update(collector=own, collector_unit=county.unit_a)
    # The same collector may take households of another unit's cadres.
    others = list(round_.samples.filter(cadre_unit=county.unit_c))
    assert services.assign_collector(
        by=county.users.county_a, round_=round_, collector=own, samples=others
    ) == len(others)


def _assigned(w, round_, collector, **filters):
    samples = list(round_.samples.filter(**filters))
    services.assign_collector(by=w.users.county_a, round_=round_, collector=collector, samples=samples)
    return samples


def test_a_second_ballot_is_refused_by_the_database_and_by_the_service(county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    ballot, created = services.record_ballot(
        by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS
    )
    assert created
    # Pressed twice: the first ballot, nothing new.
    again, created = services.record_ballot(
        by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS
    )
    assert (again.pk, created) == (ballot.pk, False)
    with pytest.raises(ValidationError, match="本轮已有评议票"):
        services.record_ballot(
            by=collector.user, sample=sample, mode="入户", answers={**GOOD_ANSWERS, "satisfaction": "不满意"}
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(
            round=round_,
            household=county.household_a,
            sample=round_.samples.exclude(pk=sample.pk)[0],
            collector=collector,
            collected_at=timezone.now(),
            mode="电话",
            answers={},
        )
    assert Ballot.objects.filter(round=round_).count() == 1
    assert SampledHousehold.objects.get(pk=sample.pk).status == SampledHousehold.Status.COLLECTED


def test_only_the_assigned_collector_records_and_answers_are_checked(county):
    round_ = _open(county)
    collector, stranger = _collector(county, "vol"), _collector(county, "other")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    with pytest.raises(PermissionDenied):
        services.record_ballot(by=stranger.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    with pytest.raises(ValidationError, match="请写明具体情况"):
        services.record_ballot(
            by=collector.user, sample=sample, mode="入户", answers={**GOOD_ANSWERS, "violation": "有"}
        )
    with pytest.raises(ValidationError, match="请回答：您对帮扶干部的总体满意度"):
        services.record_ballot(
            by=collector.user, sample=sample, mode="入户", answers={"visits": "0次", "violation": "无"}
        )
    ballot, _ = services.record_ballot(
        by=collector.user,
        sample=sample,
        mode="电话",
        answers={
            **GOOD_ANSWERS,
            "violation": "有",
            "violation__text": "收过一只羊",
            "deeds": ["危房改造", "无此项"][:1],
        },
    )
    assert ballot.answers["violation__text"] == "收过一只羊"
    assert ballot.answers["deeds"] == ["危房改造"]


def test_the_questionnaire_locks_at_the_first_ballot(county):
    round_ = _open(county)
    question = round_.questions.get(code="suggestions")
    services.update_question(by=county.users.county_a, question=question, text="您还有什么意见建议")
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    with pytest.raises(ValidationError, match="问卷已锁定"):
        services.update_question(by=county.users.county_a, question=question, text="改")


def test_an_unreachable_household_gets_the_next_substitute_of_the_same_draw(county):
    round_ = _open(county, sample_method=Round.SampleMethod.PER_CADRE, sample_parameter=2, seed=99)
    cadre = county.cadres[2]  # six households: four left in reserve
    collector = _collector(county, "vol")
    first = _assigned(county, round_, collector, cadre=cadre)[0]
    substitute = services.mark_unreachable(by=collector.user, sample=first, reason="外出")
    assert substitute.substitute_for_id == first.pk and substitute.cadre_id == cadre.pk
    assert substitute.collector_id == collector.pk
    order = sampling.permutation(99, str(cadre.pk), sampling.candidates(round_, str(cadre.pk)))
    assert substitute.household_id == order[2].household_id and substitute.order == 2
    # Pressed twice: the same substitute.
    assert services.mark_unreachable(by=collector.user, sample=first, reason="外出").pk == substitute.pk
    first.refresh_from_db()
    assert (first.status, first.unreachable_reason) == ("无法联系", "外出")
    with pytest.raises(ValidationError, match="原因"):
        services.mark_unreachable(by=collector.user, sample=substitute, reason="出差")


def test_a_closed_round_takes_no_ballot_and_closing_twice_is_harmless(county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    with pytest.raises(ValidationError):
        services.close_round(by=county.users.county_b, round_=round_)
    services.close_round(by=county.users.county_a, round_=round_)
    closed_at = Round.objects.get(pk=round_.pk).closed_at
    services.close_round(by=county.users.county_a, round_=round_)
    assert Round.objects.get(pk=round_.pk).closed_at == closed_at
    with pytest.raises(ValidationError, match="已结束"):
        services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)


def test_an_office_correction_keeps_the_old_and_new_answers(county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    ballot, _ = services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    with pytest.raises(PermissionDenied):
        services.correct_ballot(by=county.users.town_a, ballot=ballot, answers=GOOD_ANSWERS, reason="x")
    with pytest.raises(ValidationError):
        services.correct_ballot(by=county.users.county_b, ballot=ballot, answers=GOOD_ANSWERS, reason="x")
    services.correct_ballot(
        by=county.users.county_a,
        ballot=ballot,
        answers={**GOOD_ANSWERS, "satisfaction": "基本满意"},
        reason="回访核实",
    )
    correction = BallotCorrection.objects.get(ballot=ballot)
    assert correction.old_answers["satisfaction"] == "满意"
    assert correction.new_answers["satisfaction"] == "基本满意"
    assert Ballot.objects.get(pk=ballot.pk).answers["satisfaction"] == "基本满意"


# --- Scores ----------------------------------------------------------------------------------


def test_scores_match_an_independent_computation_over_random_ballots(county):
    round_ = _open(county, weight_masses=70)
    collector = _collector(county, "vol")
    samples = _assigned(county, round_, collector)
    rng = random.Random(5)
    points = {"满意": 100, "基本满意": 70, "不满意": 0}
    expected = defaultdict(list)
    ballots = defaultdict(int)
    for sample in samples:
        if rng.random() < 0.2:
            continue
        answer = rng.choice(["满意", "基本满意", "不满意", "不了解"])
        services.record_ballot(
            by=collector.user, sample=sample, mode="入户", answers={**GOOD_ANSWERS, "satisfaction": answer}
        )
        ballots[sample.cadre_id] += 1
        if answer in points:
            expected[sample.cadre_id].append(points[answer])
    # Give one cadre's households a plan and a visit each: its process score rises.
    helped = county.cadres[1]
    for pairing in helped.pairings.all():
        HouseholdPlan.objects.create(
            household=pairing.household,
            year=round_.year,
            measures=["产业扶持"],
            targets="增收",
            updated_by=county.users.town_a,
        )
        Visit.objects.create(
            household=pairing.household,
            cadre=helped,
            visited_on=timezone.localdate(),
            recorded_by=county.users.town_a,
        )
    tallies.rebuild()  # the visits above were written directly, past services.record_visit
    results = {s.cadre_id: s for s in scores.round_scores(round_)}
    for cadre in county.cadres:
        got = results[cadre.pk]
        assert got.ballots == ballots[cadre.pk]
        assert got.counted == len(expected[cadre.pk])
        assert got.caution == (len(expected[cadre.pk]) < 5)
        if not expected[cadre.pk]:
            assert got.masses is None and got.combined is None
            continue
        masses = sum(expected[cadre.pk]) / len(expected[cadre.pk])
        by_code = {i.code: i.value for i in got.indicators}
        assert by_code["demands"] == 100.0  # no demand due
        assert by_code["plans"] == (100.0 if cadre == helped else 0.0)
        assert by_code["contacted"] == (100.0 if cadre == helped else 0.0)
        process = sum(by_code.values()) / 4
        assert got.masses == pytest.approx(masses, abs=0.005)
        assert got.combined == pytest.approx(masses * 0.7 + process * 0.3, abs=0.01)


def test_explanation_masks_households_and_states_the_formula(county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    explained = scores.explain(round_, county.cadre_a.pk)
    assert "× 60%" in explained["formula"] and "× 40%" in explained["formula"]
    assert explained["ballots"][0]["household"] == "王**户（东关村民委员会）"
    assert explained["caution"]
    assert [i.name for i in explained["score"].indicators] == [
        "走访达标率",
        "联系覆盖率",
        "诉求按期办结率",
        "帮扶计划到位率",
    ]


def test_excellent_is_capped_at_its_share_of_the_cadres_scored():
    round_ = Round(excellent_min=90, excellent_share=20, good_min=80, pass_min=60)
    cadres = [
        CadreScore(i, masses=95, combined=c)
        for i, c in enumerate([99, 98, 97, 96, 95, 95, 85, 70, 59, 91], start=1)
    ]
    scores.grade(round_, cadres)
    by_id = {c.cadre_id: c for c in cadres}
    assert [c.cadre_id for c in cadres if c.grade == "优秀"] == [1, 2]  # 20% of 10
    assert {by_id[i].grade for i in (3, 4, 5, 6, 10)} == {"良好"}
    assert (by_id[7].grade, by_id[8].grade, by_id[9].grade) == ("良好", "合格", "不合格")
    assert (by_id[5].rank, by_id[6].rank, by_id[10].rank, by_id[7].rank) == (5, 5, 7, 8)
    # Fewer than five scored: no room for 优秀 at 20%.
    few = [CadreScore(i, masses=99, combined=99) for i in range(4)]
    scores.grade(round_, few)
    assert {c.grade for c in few} == {"良好"}


# --- Pages -------------------------------------------------------------------------------------


def test_a_collector_enters_a_ballot_on_the_phone_page_and_a_double_press_saves_once(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    client.force_login(collector.user)
    page = client.get(reverse("evaluation:collect"))
    assert "王建国户" in page.content.decode() and "已完成 0 / 1 户" in page.content.decode()
    form = {
        "mode": "入户",
        "satisfaction": "基本满意",
        "visits": "1–2次",
        "violation": "无",
        "deeds": ["危房改造"],
    }
    url = reverse("evaluation:ballot", args=[sample.pk])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the same ballot again: saved once
    assert Ballot.objects.filter(round=round_).count() == 1
    refused = client.post(url, {**form, "satisfaction": "不满意"})
    assert "本轮已有评议票" in refused.content.decode()


def test_the_county_reads_results_and_a_cadres_explained_score(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    client.force_login(county.users.county_a)
    detail = client.get(reverse("evaluation:round_detail", args=[round_.pk])).content.decode()
    assert "已采集 1" in detail and "李文华" in detail and "随机种子 20260101" in detail
    explained = client.get(
        reverse("evaluation:cadre_score", args=[round_.pk, county.cadre_a.pk])
    ).content.decode()
    assert "王**户（东关村民委员会）" in explained and "王建国" not in explained
    assert "有效票少于5张" in explained and "走访达标率" in explained


def test_the_office_assigns_a_village_leaving_the_collectors_own_unit_for_another(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol", unit=county.unit_c)
    client.force_login(county.users.county_a)
    detail = client.get(reverse("evaluation:round_detail", args=[round_.pk])).content.decode()
    assert "指派采集员" in detail and "vol（通渭县教育局）" in detail
    response = client.post(
        reverse("evaluation:assign", args=[round_.pk]),
        {"collector": collector.pk, "village": county.village_a.code},
        follow=True,
    )
    in_village = round_.samples.filter(household__village=county.village_a)
    assigned = in_village.filter(collector=collector)
    assert assigned.count() == in_village.exclude(cadre_unit=county.unit_c).count() > 0
    assert not assigned.filter(cadre_unit=county.unit_c).exists()
    assert "请另派采集员" in response.content.decode()
    # Query-string junk is refused plainly.
    junk = client.post(
        reverse("evaluation:assign", args=[round_.pk]), {"collector": "x", "village": "1"}, follow=True
    )
    assert "请选择采集员和村" in junk.content.decode()


def test_visit_and_demand_indicators_follow_their_definitions(county):
    from demands.models import Demand, DemandAction

    round_ = _open(county)
    cadre = county.cadre_a
    households = [
        p.household for p in cadre.pairings.select_related("household").order_by("household__head_id_number")
    ]
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    for household in households[:2]:
        Visit.objects.create(
            household=household, cadre=cadre, visited_on=today, recorded_by=county.users.town_a
        )
    Visit.objects.create(
        household=households[0], cadre=cadre, visited_on=today - day, recorded_by=county.users.town_a
    )

    def demand(household, due_on, closed_at=None, status="待办"):
        raised = Demand.objects.create(
            household=household,
            raised_on=due_on - 10 * day,
            category="住房",
            text="修房",
            due_on=due_on,
            status=status,
            raised_by=county.users.town_a,
        )
        if closed_at:
            DemandAction.objects.create(
                demand=raised,
                kind="办结",
                from_level="干部",
                by=county.users.town_a,
                at=timezone.make_aware(datetime.datetime.combine(closed_at, datetime.time(12))),
            )

    demand(households[0], today - 3 * day, closed_at=today - 4 * day, status="已解决")  # on time
    demand(households[1], today - 3 * day, closed_at=today - day, status="已解决")  # late
    demand(households[2], today - day)  # still open, overdue
    demand(households[3], today + day)  # not yet due: not counted
    tallies.rebuild()  # the visits above were written directly, past services.record_visit
    indicators = {i.code: i for i in scores.process_indicators(round_, [cadre.pk])[cadre.pk]}
    # By hand: 4 visits a year, pro rata from 1 January (every pairing began in 2024).
    elapsed = (today - datetime.date(today.year, 1, 1)).days + 1
    owed = 4 * elapsed // (366 if today.year % 4 == 0 else 365)
    done = [2, 1] + [0] * (len(households) - 2)
    expected = sum(1 if owed == 0 else min(1, d / owed) for d in done) / len(households) * 100
    assert indicators["visits"].value == pytest.approx(expected, abs=0.01)
    assert indicators["contacted"].value == pytest.approx(200 / len(households), abs=0.01)
    assert (indicators["demands"].numerator, indicators["demands"].denominator) == (1, 3)


def test_an_office_registers_collectors_within_its_scope(client, county):
    volunteer = f.user("zhiyuan")
    client.force_login(county.users.county_a)
    url = reverse("evaluation:collectors")
    form = {
        "username": "zhiyuan",
        "name": "志愿者甲",
        "kind": "志愿者",
        "region": county.county_a.code,
        "unit": county.unit_c.pk,
    }
    assert client.post(url, form).status_code == 302
    assert volunteer.collector.unit == county.unit_c
    # Staff of another county, an unknown account, a unit outside the scope: each refused plainly.
    for changes, message in [
        ({"username": "town_b"}, "不在您的管辖范围内"),
        ({"username": "nobody"}, "没有这个登录账号"),
        ({"unit": county.unit_b.pk}, "请选择您管辖范围内的单位"),
    ]:
        assert message in client.post(url, {**form, **changes}).content.decode()
    # Another county may not take over county A's collector.
    with pytest.raises(ValidationError, match="其他双联办"):
        services.register_collector(
            by=county.users.county_b, user=volunteer, region=county.county_b, kind="志愿者", name="x"
        )
    assert "志愿者甲" in client.get(url).content.decode()


def test_round_pages_run_a_fixed_number_of_queries(client, county):
    from tests.queries import count_queries

    round_ = _open(county)
    collector = _collector(county, "vol")
    few = _assigned(county, round_, collector, household=county.household_a)
    services.record_ballot(by=collector.user, sample=few[0], mode="入户", answers=GOOD_ANSWERS)
    client.force_login(county.users.county_a)
    detail = reverse("evaluation:round_detail", args=[round_.pk])
    score = reverse("evaluation:cadre_score", args=[round_.pk, county.cadre_a.pk])
    before = count_queries(client, detail), count_queries(client, score)
    client.force_login(collector.user)
    collect_before = count_queries(client, reverse("evaluation:collect"))
    for sample in _assigned(county, round_, collector, cadre_unit=county.unit_c):
        services.record_ballot(by=collector.user, sample=sample, mode="电话", answers=GOOD_ANSWERS)
    for sample in _assigned(county, round_, collector, cadre=county.cadre_a).__iter__():
        if sample.status == "待采集":
            services.record_ballot(by=collector.user, sample=sample, mode="电话", answers=GOOD_ANSWERS)
    assert count_queries(client, reverse("evaluation:collect")) == collect_before
    client.force_login(county.users.county_a)
    assert (count_queries(client, detail), count_queries(client, score)) == before
