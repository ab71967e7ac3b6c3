"""提出诉求 on the household page: who may, where it lands, and what bad input is told."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from demands.models import Demand, DemandDeadlines

today = timezone.localdate  # read per test: a run may cross midnight (Asia/Shanghai)


def form(**changes):
    data = {
        "category": "医疗",
        "text": "老人需要慢病卡",
        "raised_on": today().isoformat(),
        "submission_key": str(uuid.uuid4()),
    }
    return {**data, **changes}


def post(client, world, data, household=None):
    return client.post(reverse("demands:raise", args=[(household or world.household_a).pk]), data)


@pytest.mark.parametrize("username", ["unit_a", "town_a"])
def test_unit_liaisons_and_township_staff_raise_a_demand(client, world, username):
    client.force_login(getattr(world.users, username))
    response = post(client, world, form())
    assert response.status_code == 302
    assert response.url == reverse("households:detail", args=[world.household_a.pk]) + "#demands"
    demand = Demand.objects.get()
    assert (demand.household, demand.category, demand.text, demand.raised_by.username, demand.visit) == (
        world.household_a,
        "医疗",
        "老人需要慢病卡",
        username,
        None,
    )
    assert list(demand.actions.values_list("kind", "by__username")) == [("提出", username)]


def test_the_form_is_shown_only_to_those_who_may_raise(client, world):
    page = reverse("households:detail", args=[world.household_a.pk])
    for username, shown in [("town_a", True), ("unit_a", True), ("county_a", False), ("province", False)]:
        client.force_login(getattr(world.users, username))
        content = client.get(page).content.decode()
        assert (reverse("demands:raise", args=[world.household_a.pk]) in content) is shown, username


def test_another_countys_household_is_404_and_nothing_is_raised(client, world):
    client.force_login(world.users.town_b)
    assert post(client, world, form()).status_code == 404
    client.force_login(world.users.unit_b)
    assert post(client, world, form()).status_code == 404
    assert not Demand.objects.exists()


def test_a_role_that_does_not_raise_demands_gets_403(client, world):
    client.force_login(world.users.county_a)
    assert post(client, world, form()).status_code == 403
    assert not Demand.objects.exists()


# These messages name their field already, so the page shows them without a 「标签：」 prefix.
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"text": "   "}, "诉求内容", "请填写诉求内容"),
        ({"category": ""}, "诉求类别", "请选择诉求类别"),
        ({"category": "上访"}, "诉求类别", "请选择有效的诉求类别"),
        ({"raised_on": "{tomorrow}"}, "提出日期", "提出日期 {tomorrow} 晚于今天"),  # filled per test
        ({"raised_on": "昨天"}, "提出日期", "请按 年-月-日 填写提出日期"),
    ],
)
def test_bad_input_is_named_and_kept(client, world, changes, field, message):
    tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
    changes = {name: value.replace("{tomorrow}", tomorrow) for name, value in changes.items()}
    message = message.replace("{tomorrow}", tomorrow)
    client.force_login(world.users.town_a)
    response = post(client, world, form(**changes))
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<p class="error">{message}</p>' in content
    assert f"{field}：{message}" not in content
    assert not Demand.objects.exists()
    if changes.get("text") is None:
        assert "老人需要慢病卡" in content  # what was typed is not lost


def test_a_double_submit_raises_one_demand(client, world):
    client.force_login(world.users.unit_a)
    data = form()
    assert post(client, world, data).status_code == 302
    assert post(client, world, data).status_code == 302
    assert Demand.objects.count() == 1
    assert post(client, world, form()).status_code == 302  # a new form is a new demand
    assert Demand.objects.count() == 2


def test_the_demand_waits_at_cadre_level_in_the_ledger_with_its_due_date(client, world):
    DemandDeadlines.objects.create(county=world.county_a, cadre_days=5)
    raised_on = today() - datetime.timedelta(days=2)
    client.force_login(world.users.town_a)
    post(client, world, form(raised_on=raised_on.isoformat(), text="村道需硬化"))

    ledger = client.get(reverse("demands:list"), {"level": "干部", "mine": "on"})
    [demand] = ledger.context["page"]
    assert (demand.text, demand.level, demand.status) == ("村道需硬化", "干部", "待办")
    assert demand.raised_on == raised_on and demand.due_on == raised_on + datetime.timedelta(days=5)
    assert (raised_on + datetime.timedelta(days=5)).isoformat() in ledger.content.decode()
    household_page = client.get(reverse("households:detail", args=[world.household_a.pk])).content.decode()
    assert "村道需硬化" in household_page
