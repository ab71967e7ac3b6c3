# ruff: noqa: F811 (the county fixture is shared with tests/test_evaluation.py by import)
"""Mass evaluation: unit scores against an independent computation, their grades and ranks within
a scope, the explanation, and the results as a workbook and an A4 print page."""

import datetime
import io
import random
from collections import defaultdict

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from evaluation import scores, services
from evaluation.models import Round
from evaluation.scores import UnitScore
from pairing.models import VillageLink
from tests import factories as f
from tests.test_evaluation import GOOD_ANSWERS, _assigned, _collector, _open, county  # noqa: F401

POINTS = {"满意": 100, "基本满意": 70, "不满意": 0}


def test_unit_scores_match_an_independent_computation_over_random_ballots(county):
    # Unit A is also linked to village A2: its households count for unit A whoever helps them.
    f.link(county.unit_a, county.village_a2)
    round_ = _open(county, weight_masses=70)
    collector = _collector(county, "vol")
    rng = random.Random(11)
    linked = defaultdict(set)  # the world links unit A to village A already
    for link in VillageLink.objects.filter(ended_on__isnull=True):
        linked[link.village_id].add(link.unit_id)
    assert county.unit_a.pk in linked[county.village_a2.code]
    sums = defaultdict(list)
    for sample in _assigned(county, round_, collector):
        if rng.random() < 0.15:
            continue
        answer = rng.choice(["满意", "基本满意", "不满意", "不了解"])
        services.record_ballot(
            by=collector.user, sample=sample, mode="入户", answers={**GOOD_ANSWERS, "satisfaction": answer}
        )
        if answer not in POINTS:
            continue
        units = {sample.cadre_unit_id} | linked[sample.household.village_id]
        for unit in units:
            sums[unit].append(POINTS[answer])
    cadres = scores.round_scores(round_)
    units = {u.unit_id: u for u in scores.unit_scores(round_, cadres)}
    assert set(units) == {county.unit_a.pk, county.unit_c.pk}
    for unit_id, unit in units.items():
        theirs = [c for c in cadres if c.unit_name == unit.unit_name]
        process = sum(c.process for c in theirs) / len(theirs)
        masses = sum(sums[unit_id]) / len(sums[unit_id])
        assert unit.counted == len(sums[unit_id]) and unit.cadres == len(theirs)
        assert unit.masses == pytest.approx(masses, abs=0.005)
        assert unit.combined == pytest.approx(masses * 0.7 + process * 0.3, abs=0.01)
    assert sorted(u.rank for u in units.values()) == [1, 2]


def test_units_get_grades_with_the_cap_and_ranks_within_a_part_of_the_round():
    round_ = Round(excellent_min=90, excellent_share=20, good_min=80, pass_min=60)
    units = [
        UnitScore(i, masses=95, combined=c) for i, c in enumerate([99, 97, 96, 92, 91, 88, 75, 50, 95, 94], 1)
    ]
    scores.grade(round_, units)
    assert [u.unit_id for u in units if u.grade == "优秀"] == [1, 2]
    assert {u.grade for u in units if u.unit_id in (3, 4, 5, 9, 10)} == {"良好"}
    part = sorted((u for u in units if u.unit_id in (4, 6, 8)), key=lambda u: u.rank)
    scores.rank_within(part)
    assert [(u.unit_id, u.rank, u.scope_rank) for u in part] == [(4, 6, 1), (6, 8, 2), (8, 10, 3)]


def test_a_unit_page_explains_its_score_with_households_masked(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    for sample in _assigned(county, round_, collector, cadre_unit=county.unit_a):
        services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    client.force_login(county.users.unit_a)
    page = client.get(reverse("evaluation:unit_score", args=[round_.pk, county.unit_a.pk])).content.decode()
    assert "综合得分 = 群众评议得分 × 60% + 过程指标得分 × 40%" in page
    assert "本单位干部帮扶户" in page and "王**户" in page and county.household_a.head_name not in page
    assert county.cadre_a.name in page
    # Another unit's page is not the unit liaison's to read.
    other = client.get(reverse("evaluation:unit_score", args=[round_.pk, county.unit_c.pk]))
    assert other.status_code == 404


def test_results_export_and_print_hold_cadres_and_units(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    for sample in _assigned(county, round_, collector):
        services.record_ballot(by=collector.user, sample=sample, mode="电话", answers=GOOD_ANSWERS)
    client.force_login(county.users.county_a)
    book = load_workbook(
        io.BytesIO(client.get(reverse("evaluation:results_export", args=[round_.pk])).content)
    )
    assert book.sheetnames == ["干部", "单位", "说明"]
    cadre_rows = list(book["干部"].iter_rows(min_row=2, values_only=True))
    assert {row[0] for row in cadre_rows} == {c.name for c in county.cadres}
    assert {row[0] for row in book["单位"].iter_rows(min_row=2, values_only=True)} == {
        "通渭县教育局",
        county.unit_a.name,
    }
    page = client.get(reverse("evaluation:results_print", args=[round_.pk])).content.decode()
    assert 'class="print-sheet"' in page and "通渭县教育局" in page and county.cadres[-1].name in page


def test_stored_scores_equal_the_computed_ones_and_pages_read_them(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    rng = random.Random(3)
    for sample in _assigned(county, round_, collector):
        answer = rng.choice(["满意", "基本满意", "不满意"])
        services.record_ballot(
            by=collector.user, sample=sample, mode="入户", answers={**GOOD_ANSWERS, "satisfaction": answer}
        )
    live_cadres = scores.round_scores(round_)
    live_units = scores.unit_scores(round_, live_cadres)
    client.force_login(county.users.county_a)
    client.post(reverse("evaluation:round_score", args=[round_.pk]))
    round_.refresh_from_db()
    assert round_.scored_at is not None
    ids = [c.pk for c in county.cadres]
    assert scores.stored(round_, "干部", ids) == [
        scores.CadreScore(**{**s.__dict__, "scope_rank": s.rank}) for s in live_cadres
    ]
    assert [
        (u.unit_id, u.masses, u.combined, u.grade, u.rank)
        for u in scores.stored(round_, "单位", [county.unit_a.pk, county.unit_c.pk])
    ] == [(u.unit_id, u.masses, u.combined, u.grade, u.rank) for u in live_units]
    # A ballot changed after the computation shows once computed again (closing computes too).
    page = client.get(reverse("evaluation:round_detail", args=[round_.pk])).content.decode()
    assert "得分计算于" in page
    explained = client.get(
        reverse("evaluation:cadre_score", args=[round_.pk, county.cadre_a.pk])
    ).content.decode()
    assert "综合得分 = 群众评议得分" in explained
    unit_page = client.get(
        reverse("evaluation:unit_score", args=[round_.pk, county.unit_c.pk])
    ).content.decode()
    assert "通渭县教育局" in unit_page and "本单位干部帮扶户" in unit_page
    services.close_round(by=county.users.county_a, round_=round_)
    assert Round.objects.get(pk=round_.pk).scores.count() == len(live_cadres) + len(live_units)


def _queries_to_store(w, round_) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.compute_scores(by=w.users.county_a, round_=round_)
    return len(queries)


def _round_with_every_ballot(w):
    round_ = _open(w)
    collector = _collector(w, f"vol{round_.pk}")
    for sample in _assigned(w, round_, collector):
        services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    return round_


def test_computing_scores_runs_the_same_queries_however_many_cadres_and_ballots(county):
    few = _queries_to_store(county, _round_with_every_ballot(county))
    for index in range(6):
        cadre = f.cadre(county.unit_c if index % 2 else county.unit_a, f"新干部{index}")
        for n in range(3):
            f.pairing(cadre, f.household(county.village_a2, f"新户{index}{n}", members=1))
    bigger = _round_with_every_ballot(county)
    assert bigger.samples.values("cadre_id").distinct().count() > len(county.cadres)
    assert _queries_to_store(county, bigger) == few


def test_the_process_indicators_are_the_catalogues_per_cadre_figures(county):
    from shuanglian import indicators

    round_ = _open(county)
    start, end = scores.period_dates(round_)
    figures = indicators.values_by_cadre(
        ["cadre_households_responsible", "cadre_households_planned"],
        [county.cadre_a.pk],
        indicators.Period(start, end + datetime.timedelta(days=1)),
    )
    households = county.cadre_a.pairings.filter(ended_on__isnull=True, role="帮扶责任人").count()
    assert figures[county.cadre_a.pk] == {"cadre_households_responsible": households}  # no plan: no key
    explained = {i.code: i for i in scores.process_indicators(round_, [county.cadre_a.pk])[county.cadre_a.pk]}
    assert (explained["plans"].numerator, explained["plans"].denominator) == (0, households)
    # Each rate names the catalogue's figures it divides, with their definitions.
    assert indicators.get("cadre_households_planned").definition in explained["plans"].definition
