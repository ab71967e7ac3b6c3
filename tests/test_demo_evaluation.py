"""load_demo's mass evaluation: a closed 通渭县 round with flags and cases, an open 东乡 round with a
collector login that has households to collect, written once."""

import io

import pytest
from django.core.management import call_command

from evaluation.models import Ballot, Flag, Round, SampledHousehold, ViolationCase


@pytest.mark.django_db
def test_demo_rounds_are_present_flagged_and_written_once():
    output = io.StringIO()
    call_command("load_demo", stdout=output)
    text = output.getvalue()
    closed = Round.objects.get(name="通渭县群众评议（演示）")
    still_open = Round.objects.get(name="东乡族自治县群众评议（演示）")
    assert closed.status == Round.Status.CLOSED and closed.region.name == "通渭县"
    assert Ballot.objects.filter(round=closed).count() >= 300
    assert closed.samples.filter(substitute_for__isnull=False).exists()
    assert {f.kind for f in Flag.objects.filter(round=closed)} == set(Flag.Kind.values)
    assert Flag.objects.filter(round=closed).count() < 15  # a few, not noise
    assert set(ViolationCase.objects.filter(round=closed).values_list("status", flat=True)) == {
        "属实",
        "核查中",
    }
    assert still_open.is_open and still_open.region.name == "东乡族自治县"
    mine = still_open.samples.filter(collector__user__username="pingyi")
    assert mine.filter(status=SampledHousehold.Status.PENDING).exists()
    assert mine.filter(status=SampledHousehold.Status.COLLECTED).exists()
    assert "群众评议采集员：pingyi" in text and "群众评议：通渭县一轮已结束" in text

    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "演示群众评议已存在，未写入" in again.getvalue()
    assert Round.objects.count() == 2
