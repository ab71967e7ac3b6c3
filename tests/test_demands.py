"""The demand ledger: who may act at which level, the path of actions, overdue escalation."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from demands import services
from demands.models import Demand, DemandAction, DemandDeadlines, Level
from pairing import services as pairing_services
from pairing.models import Cadre, HandoverLine
from tests import factories as f

today = timezone.localdate  # read per test: a run may cross midnight (Asia/Shanghai)


def raise_for(world, *, household=None, days_ago=0, by=None, text="村道塌方，出行困难"):
    return services.raise_demand(
        household=household or world.household_a,
        category="基础设施",
        text=text,
        by=by or world.users.town_a,
        raised_on=today() - datetime.timedelta(days=days_ago),
    )


def kinds(demand):
    return list(demand.actions.values_list("kind", flat=True))


# --- Raising ---------------------------------------------------------------------------------------


def test_a_demand_starts_at_the_cadre_with_the_countys_deadline(world):
    demand = raise_for(world)
    assert (demand.level, demand.status) == (Level.CADRE, "待办")
    assert demand.due_on == today() + datetime.timedelta(days=DemandDeadlines.DEFAULTS[Level.CADRE])
    assert kinds(demand) == ["提出"]

    DemandDeadlines.objects.create(county=world.county_a, cadre_days=3)
    assert raise_for(world).due_on == today() + datetime.timedelta(days=3)


@pytest.mark.parametrize(
    ("username", "household", "fields", "message"),
    [
        ("county_a", "household_a", {}, "您的角色不能登记诉求"),
        ("town_b", "household_a", {}, "不在您的管辖范围内"),
        ("town_a", "household_a", {"text": "  "}, "请填写诉求内容"),
        ("town_a", "household_a", {"category": "天气"}, "诉求类别“天气”无效"),
        ("town_a", "household_a", {"raised_on": 1}, "晚于今天"),  # days after today, read per test
    ],
)
def test_raising_is_refused_with_a_reason(world, username, household, fields, message):
    arguments = {"category": "住房", "text": "危房需改造", **fields}
    arguments["raised_on"] = today() + datetime.timedelta(days=fields.get("raised_on", 0))
    with pytest.raises(ValidationError) as caught:
        services.raise_demand(
            household=getattr(world, household), by=getattr(world.users, username), **arguments
        )
    assert message in " ".join(caught.value.messages)
    assert not Demand.objects.exists()


# --- Levels and scope ------------------------------------------------------------------------------


def actors(world, demand):
    return {name for name in vars(world.users) if services.may_act(getattr(world.users, name), demand)}


def test_each_level_is_answered_by_its_own_office(world):
    demand = raise_for(world)
    # Cadres have no accounts: the township staff and the cadre's unit act for them.
    assert actors(world, demand) == {"admin", "town_a", "unit_a"}
    expected = {
        Level.UNIT: {"admin", "unit_a"},
        Level.TOWNSHIP: {"admin", "town_a"},
        Level.COUNTY: {"admin", "county_a"},
        Level.CITY: {"admin", "city_a"},
        Level.PROVINCE: {"admin", "province"},
    }
    for level, who in expected.items():
        services.escalate(demand=demand, by=world.users.admin, text="需上级协调")
        demand.refresh_from_db()
        assert demand.level == level
        assert actors(world, demand) == who, level
    assert services.Kind.ESCALATE not in services.allowed_actions(world.users.province, demand)
    with pytest.raises(ValidationError, match="不能再上报"):
        services.escalate(demand=demand, by=world.users.province, text="再上报")


def test_other_scopes_do_not_see_the_demand(world):
    demand = raise_for(world)
    for name in ("town_b", "county_b", "city_b", "unit_b"):
        assert not Demand.objects.visible_to(getattr(world.users, name)).filter(pk=demand.pk).exists()
    for name in ("province", "city_a", "county_a", "town_a", "unit_a"):
        assert Demand.objects.visible_to(getattr(world.users, name)).filter(pk=demand.pk).exists()


def test_a_cadre_level_demand_follows_the_household_to_its_new_cadre(world):
    """The responsible cadre is read from the open pairing, so a handover moves the demand."""
    unit_c = f.unit(world.county_a, "通渭县水务局", level="county")
    f.link(unit_c, world.village_a)
    successor = f.cadre(unit_c, "周永强")
    liaison_c = f.user("unit_c", "unit", of_unit=unit_c)
    demand = raise_for(world)
    assert services.may_act(world.users.unit_a, demand) and not services.may_act(liaison_c, demand)

    handover = pairing_services.start_handover(
        cadre=world.cadre_a, new_status=Cadre.Status.TRANSFERRED, effective_on=today(), by=world.users.town_a
    )
    HandoverLine.objects.filter(handover=handover).update(successor=successor)
    pairing_services.apply_handover(handover=handover, by=world.users.county_a)

    assert services.may_act(liaison_c, demand)
    assert not services.may_act(world.users.unit_a, demand)
    assert not Demand.objects.visible_to(world.users.unit_a).filter(pk=demand.pk).exists()
    annotated = Demand.objects.with_responsible_cadre().get(pk=demand.pk)
    assert (annotated.responsible_cadre_id, annotated.responsible_cadre_name) == (successor.pk, "周永强")


# --- The path of actions -------------------------------------------------------------------------


def test_accept_escalate_resolve_and_feedback_write_the_path(world):
    demand = raise_for(world)
    services.accept(demand=demand, by=world.users.town_a)
    demand.refresh_from_db()
    assert demand.status == "办理中"
    services.escalate(demand=demand, by=world.users.town_a, text="需单位协调资金")
    demand.refresh_from_db()
    assert (demand.level, demand.status) == (Level.UNIT, "待办")
    assert demand.due_on == today() + datetime.timedelta(days=DemandDeadlines.DEFAULTS[Level.UNIT])
    services.reply(demand=demand, by=world.users.unit_a, text="已联系施工队")
    services.resolve(demand=demand, by=world.users.unit_a, text="村道已修复")
    demand.refresh_from_db()
    assert demand.status == "已解决"
    services.feedback(demand=demand, by=world.users.unit_a, text="已告知户主")
    path = list(demand.actions.values_list("kind", "from_level", "to_level", "by__username"))
    assert path == [
        ("提出", "干部", "", "town_a"),
        ("受理", "干部", "", "town_a"),
        ("上报", "干部", "单位", "town_a"),
        ("答复", "单位", "", "unit_a"),
        ("办结", "单位", "", "unit_a"),
        ("反馈", "单位", "", "unit_a"),
    ]


def test_refusals_leave_nothing_written(world):
    demand = raise_for(world)
    with pytest.raises(ValidationError, match="该诉求现由帮扶干部办理"):
        # county_a may read it but it sits with the cadre: the message names the level.
        services.accept(demand=demand, by=world.users.county_a)
    with pytest.raises(ValidationError) as caught:
        services.escalate(demand=demand, by=world.users.town_a, text="")
    assert caught.value.message_dict == {"text": ["请填写上报理由"]}
    with pytest.raises(ValidationError, match="不能受理"):
        services.accept(
            demand=Demand.objects.get(pk=services.accept(demand=demand, by=world.users.town_a).demand_id),
            by=world.users.town_a,
        )
    services.explain(demand=demand, by=world.users.town_a, text="不符合政策")
    with pytest.raises(ValidationError, match="已解释"):
        services.resolve(demand=demand, by=world.users.town_a, text="再办一次")
    demand.refresh_from_db()
    assert (demand.level, demand.status) == (Level.CADRE, "已解释")
    assert kinds(demand) == ["提出", "受理", "解释"]


# --- Overdue escalation --------------------------------------------------------------------------


def run_escalation(*args):
    output = io.StringIO()
    call_command("escalate_overdue", *args, stdout=output)
    return output.getvalue()


def test_overdue_demands_climb_one_level_and_a_second_run_changes_nothing(world):
    overdue = raise_for(world, days_ago=30)
    fresh = raise_for(world, days_ago=1)
    closed = raise_for(world, days_ago=30)
    services.resolve(demand=closed, by=world.users.town_a, text="已解决")
    at_top = raise_for(world, household=world.household_b, by=world.users.town_b, days_ago=30)
    Demand.objects.filter(pk=at_top.pk).update(level=Level.PROVINCE)
    DemandDeadlines.objects.create(county=world.county_a, unit_days=12)

    assert "（试运行，未写入）已将 1 件逾期诉求上报一级" in run_escalation("--dry-run")
    assert Demand.objects.get(pk=overdue.pk).level == Level.CADRE  # a dry run writes nothing

    output = run_escalation()
    assert "已将 1 件逾期诉求上报一级" in output and "帮扶干部 → 帮扶单位：1 件" in output
    overdue.refresh_from_db()
    assert (overdue.level, overdue.status) == (Level.UNIT, "待办")
    assert overdue.due_on == today() + datetime.timedelta(days=12)
    automatic = overdue.actions.get(kind="上报")
    assert (automatic.by, automatic.text, automatic.from_level, automatic.to_level) == (
        None,
        "逾期未办结",
        "干部",
        "单位",
    )
    for untouched in (fresh, closed, at_top):
        assert untouched.actions.filter(kind="上报").count() == 0

    state = list(Demand.objects.order_by("pk").values_list("level", "status", "due_on", "updated_at"))
    actions = DemandAction.objects.count()
    assert run_escalation() == "没有需要上报的逾期诉求。\n"
    assert list(Demand.objects.order_by("pk").values_list("level", "status", "due_on", "updated_at")) == state
    assert DemandAction.objects.count() == actions


@pytest.mark.parametrize("overdue", [5, 50])
def test_escalation_runs_a_fixed_number_of_queries(world, django_assert_num_queries, overdue):
    # Spread over both counties and five levels, each county with its own deadlines: as many
    # (level, county) groups as the data has, and still the same queries for 5 demands as for 50.
    DemandDeadlines.objects.create(county=world.county_a, unit_days=12, county_days=25)
    levels = [Level.CADRE, Level.UNIT, Level.TOWNSHIP, Level.COUNTY, Level.CITY]
    expected = {}
    for number in range(overdue):
        in_b = number % 2
        demand = raise_for(
            world,
            household=world.household_b if in_b else None,
            by=world.users.town_b if in_b else None,
            days_ago=40,
        )
        level = levels[number // 2 % len(levels)]
        Demand.objects.filter(pk=demand.pk).update(level=level)
        expected[demand.pk] = (level, in_b)
    # savepoint, select overdue, deadlines, one update, read back and insert the moved rows'
    # history (shuanglian/lib/history.py: an UPDATE sends no signal), one bulk insert, release
    with django_assert_num_queries(8):
        moved = services.escalate_overdue()
    assert sum(moved.values()) == overdue
    escalated = Demand.history.filter(id__in=expected, history_type="~", history_user=None)
    assert sorted(escalated.values_list("id", "level")) == sorted(
        (pk, Demand.objects.get(pk=pk).level) for pk in expected
    )
    own_days = {Level.UNIT: 12, Level.COUNTY: 25}
    for demand in Demand.objects.filter(pk__in=expected):
        level, in_b = expected[demand.pk]
        upper = {
            Level.CADRE: Level.UNIT,
            Level.UNIT: Level.TOWNSHIP,
            Level.TOWNSHIP: Level.COUNTY,
            Level.COUNTY: Level.CITY,
            Level.CITY: Level.PROVINCE,
        }[level]
        days = (
            DemandDeadlines.DEFAULTS[upper] if in_b else own_days.get(upper, DemandDeadlines.DEFAULTS[upper])
        )
        assert (demand.level, demand.status, demand.due_on) == (
            upper,
            "待办",
            today() + datetime.timedelta(days=days),
        )
        assert demand.actions.get(kind="上报").from_level == level


# --- Admin ---------------------------------------------------------------------------------------


def test_admin_lists_demands_in_scope_and_lets_the_county_set_deadlines(client, world):
    from django.urls import reverse

    raise_for(world, text="东关的诉求")
    raise_for(world, household=world.household_b, by=world.users.town_b, text="达板的诉求")
    for username in ("admin", "province", "city_a", "county_a", "town_a", "unit_a"):
        client.force_login(getattr(world.users, username))
        assert client.get(reverse("admin:demands_demand_changelist")).status_code == 200
        assert client.get(reverse("admin:demands_demanddeadlines_changelist")).status_code == 200
    client.force_login(world.users.town_a)
    listing = client.get(reverse("admin:demands_demand_changelist")).content.decode()
    assert "王建国" in listing and "妥有福" not in listing
    assert client.get(reverse("admin:demands_demanddeadlines_add")).status_code == 403

    client.force_login(world.users.county_a)
    fields = {
        "county": world.county_a.pk,
        "cadre_days": 5,
        "unit_days": 8,
        "township_days": 10,
        "county_days": 15,
        "city_days": 20,
        "province_days": 30,
    }
    assert client.post(reverse("admin:demands_demanddeadlines_add"), fields).status_code == 302
    other_county = {**fields, "county": world.county_b.pk}  # not in the chooser: the form refuses it
    assert client.post(reverse("admin:demands_demanddeadlines_add"), other_county).status_code == 200
    assert list(DemandDeadlines.objects.values_list("county", "cadre_days")) == [(world.county_a.pk, 5)]
