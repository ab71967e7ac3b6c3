"""load_demo's demands: every level and status, some overdue, each with its path; written once."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from demands.models import Demand, DemandAction, Level


@pytest.mark.django_db
def test_demo_demands_cover_the_ledger_and_load_once():
    call_command("load_demo", stdout=io.StringIO())
    first = sorted(
        Demand.objects.values_list("household__head_id_number", "category", "text", "level", "status")
    )
    second_output = io.StringIO()
    call_command("load_demo", stdout=second_output)
    assert "演示诉求已存在，未写入" in second_output.getvalue()
    assert (
        sorted(Demand.objects.values_list("household__head_id_number", "category", "text", "level", "status"))
        == first
    )

    assert set(Demand.objects.values_list("level", flat=True)) == set(Level.values)
    assert set(Demand.objects.values_list("status", flat=True)) == set(Demand.Status.values)
    assert Demand.objects.overdue().exists()
    assert set(Demand.objects.overdue().values_list("level", flat=True)) >= {
        Level.CADRE,
        Level.COUNTY,
        Level.PROVINCE,
    }
    for demand in Demand.objects.prefetch_related("actions"):
        path = list(demand.actions.all())
        assert path[0].kind == "提出"
        assert sum(1 for action in path if action.kind == "上报") == Level.values.index(demand.level)
        assert demand.is_open or path[-1].kind == "反馈"
    assert not DemandAction.objects.filter(at__gt=timezone.now()).exists()
    # Each demo login has something waiting at its level.
    for username in ("tongwei_town", "tongwei_unit", "tongwei", "dingxi", "province", "dongxiang_unit"):
        user = User.objects.get(username=username)
        assert Demand.objects.visible_to(user).at_level_of(user).open().exists(), username
