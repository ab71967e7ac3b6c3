# ruff: noqa: F811 (the county fixture is shared with tests/test_evaluation.py by import)
"""Mass evaluation in the admin: every list opens for every role within its scope, nothing is written
there but a collector's contact, and the lists run a fixed number of queries."""

import pytest
from django.urls import reverse

from evaluation import services
from evaluation.models import Ballot, Collector, Flag, Score
from tests import factories as f
from tests.queries import count_queries
from tests.test_admin import ROLES
from tests.test_evaluation import GOOD_ANSWERS, _assigned, _collector, _open, county  # noqa: F401

CHANGELISTS = [
    "evaluation_round",
    "evaluation_question",
    "evaluation_collector",
    "evaluation_sampledhousehold",
    "evaluation_ballot",
    "evaluation_ballotcorrection",
    "evaluation_flag",
    "evaluation_violationcase",
    "evaluation_score",
]


def changelist(model):
    return reverse(f"admin:{model}_changelist")


def _round_with_ballots(w, *, violation=False):
    """County A's round with a ballot from every sampled household, one of them corrected, scored."""
    round_ = _open(w)
    collector = _collector(w, f"vol{round_.pk}")
    for sample in _assigned(w, round_, collector):
        answers = {**GOOD_ANSWERS}
        if violation:
            answers.update(violation="有", violation__text="收过礼品")
            violation = False
        services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=answers)
    ballot = Ballot.objects.filter(round=round_).first()
    services.correct_ballot(
        by=w.users.county_a,
        ballot=ballot,
        answers={**GOOD_ANSWERS, "satisfaction": "基本满意"},
        reason="核实",
    )
    services.compute_scores(by=w.users.county_a, round_=round_)
    Flag.objects.create(round=round_, kind=Flag.Kind.PACE, key=str(collector.pk), reason="两张票间隔1分钟")
    return round_


@pytest.mark.parametrize("model", CHANGELISTS)
def test_every_evaluation_changelist_opens_for_every_role(client, county, model):
    _round_with_ballots(county, violation=True)
    for username in ROLES:
        client.force_login(getattr(county.users, username))
        assert client.get(changelist(model)).status_code == 200, username


def test_lists_hold_only_what_the_pages_show(client, county):
    round_ = _round_with_ballots(county)
    in_village_a = round_.samples.filter(household__village=county.village_a).count()
    client.force_login(county.users.town_a)  # village A only, not village A2 (another township)
    shown = client.get(changelist("evaluation_sampledhousehold")).context["cl"].result_count
    assert 0 < shown == in_village_a < round_.samples.count()
    assert client.get(changelist("evaluation_ballot")).context["cl"].result_count == in_village_a
    client.force_login(county.users.town_b)  # another county: not even the round
    for model in ("evaluation_round", "evaluation_sampledhousehold", "evaluation_ballot", "evaluation_score"):
        assert client.get(changelist(model)).context["cl"].result_count == 0, model
    client.force_login(county.users.unit_a)  # its own cadres and its own unit
    rows = client.get(changelist("evaluation_score")).context["cl"].result_list
    assert rows and {row.unit_id for row in rows} == {county.unit_a.pk}
    assert Score.objects.filter(round=round_).exclude(unit=county.unit_a).exists()


def test_ballots_and_rounds_are_read_only_and_a_correction_shows_under_its_ballot(client, county):
    round_ = _round_with_ballots(county)
    ballot = Ballot.objects.get(round=round_, corrected=True)
    client.force_login(county.users.county_a)  # an office that may correct ballots on the pages
    page = client.get(reverse("admin:evaluation_ballot_change", args=[ballot.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "核实" in body and "基本满意" in body
    assert 'name="answers"' not in body  # shown, never editable here
    before = Ballot.objects.get(pk=ballot.pk).answers
    client.post(reverse("admin:evaluation_ballot_change", args=[ballot.pk]), {"answers": "{}"})
    assert Ballot.objects.get(pk=ballot.pk).answers == before
    assert client.get(reverse("admin:evaluation_round_add")).status_code == 403
    round_page = client.get(reverse("admin:evaluation_round_change", args=[round_.pk])).content.decode()
    assert "您对帮扶干部的总体满意度" in round_page  # the questionnaire under its round


def test_an_office_edits_a_collectors_contact_but_not_who_or_where(client, county):
    collector = _collector(county, "vol")
    client.force_login(county.users.county_a)
    url = reverse("admin:evaluation_collector_change", args=[collector.pk])
    response = client.post(url, {"name": "新名字", "phone": "13900000000", "unit": county.unit_a.pk})
    assert response.status_code == 302
    collector = Collector.objects.get(pk=collector.pk)
    assert (collector.name, collector.active, collector.unit_id) == ("新名字", False, None)
    client.force_login(county.users.town_a)  # reads, does not write
    assert client.post(url, {"name": "再改", "active": "on"}).status_code == 403
    client.force_login(county.users.town_b)  # another county's collector does not exist for it
    assert client.get(url).status_code == 302


def test_results_export_to_xlsx_within_the_scope(client, county):
    _round_with_ballots(county)
    client.force_login(county.users.unit_a)
    response = client.get(reverse("admin:evaluation_score_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("model", CHANGELISTS)
def test_evaluation_changelists_run_the_same_queries_however_many_rows(client, county, model):
    _round_with_ballots(county, violation=True)
    client.force_login(county.users.city_a)
    url = changelist(model)
    client.get(url)  # warm the per-process caches (content types)
    few = count_queries(client, url)
    shown = client.get(url).context["cl"].result_count
    for index in range(3):
        cadre = f.cadre(county.unit_c, f"新干部{index}")
        for n in range(2):
            f.pairing(cadre, f.household(county.village_a, f"新户{index}{n}", members=1))
    _round_with_ballots(county, violation=True)
    assert client.get(url).context["cl"].result_count > shown
    assert count_queries(client, url) == few, model
