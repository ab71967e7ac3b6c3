"""The history of every change (操作记录): every write path of the app leaves a row with who made it,
the pages show the last changes with old → new values masked, offices search within their scope,
and a superuser's hard delete of a household keeps the whole old row."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import User
from demands import services as demand_services
from demands.models import Demand
from households.models import Household, Member
from imports import services as import_services
from pairing import services as pairing_services
from pairing.models import Cadre, Handover, Pairing, VillageLink
from plans import services as plan_services
from plans.models import HouseholdPlan, VillagePlan
from shuanglian.lib import history
from tests import factories as f
from tests.factories import START
from tests.test_demand_pages import demand_rows
from tests.test_plans import YEAR, household_data, village_data
from tests.test_versions import admin_cases, admin_form_data, change_url, household_post
from tests.test_visit_pages import entry
from visits.models import LockedMonth, Visit


def last(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


def assert_recorded(model, pk, user, kind="~"):
    row = last(model, pk)
    assert row is not None, f"no history of {model.__name__} {pk}"
    assert (row.history_type, row.history_user) == (kind, user), (
        model.__name__,
        row.history_type,
        row.history_user,
    )
    return row


# --- Every write path ------------------------------------------------------------------------


def test_the_pages_record_who_saved(client, world):
    town = world.users.town_a
    client.force_login(town)
    household = world.household_a
    response = client.post(
        reverse("households:edit", args=[household.pk]), household_post(household, group="9社")
    )
    assert response.status_code == 302
    row = assert_recorded(Household, household.pk, town)
    assert row.group == "9社"

    response = client.post(reverse("visits:new"), entry(world, **demand_rows(("基础设施", "想通自来水"))))
    assert response.status_code == 302
    assert_recorded(Visit, Visit.objects.get().pk, town, "+")
    assert_recorded(Demand, Demand.objects.get().pk, town, "+")


@pytest.mark.parametrize("case", range(4), ids=["household", "member", "unit", "cadre"])
def test_the_admin_records_who_saved(client, world, case):
    user, obj, changes = admin_cases(world)[case]
    client.force_login(user)
    response = client.post(change_url(obj), admin_form_data(client.get(change_url(obj)), **changes))
    assert response.status_code == 302
    name, value = next(iter(changes.items()))
    row = assert_recorded(type(obj), obj.pk, user)
    assert getattr(row, name) == value


def test_user_accounts_made_and_changed_in_the_admin_are_recorded(client, world):
    admin = world.users.admin
    client.force_login(admin)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "new_clerk",
            "password1": "Zk8!qpw-Lm3",
            "password2": "Zk8!qpw-Lm3",
            "usable_password": "true",
            "role": "township",
            "region": world.town_a.pk,
            "unit": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    account = User.objects.get(username="new_clerk")
    row = assert_recorded(User, account.pk, admin, "+")
    assert (row.role, row.region_id) == ("township", world.town_a.pk)
    assert not hasattr(row, "password")  # old password hashes are not kept


def test_a_login_is_not_a_change_of_the_account(client, world):
    user = world.users.town_a
    before = User.history.filter(id=user.pk).count()
    user.set_password("Zk8!qpw-Lm3")
    user.save()
    assert User.history.filter(id=user.pk).count() == before + 1  # the password change, hash left out
    response = client.post(reverse("login"), {"username": "town_a", "password": "Zk8!qpw-Lm3"})
    assert response.status_code == 302 and User.objects.get(pk=user.pk).last_login is not None
    assert User.history.filter(id=user.pk).count() == before + 1


def test_the_services_record_their_actor(world):
    town, county = world.users.town_a, world.users.county_a
    # Village links and pairings: open, end, pair several, hand over.
    link = pairing_services.link_village(
        unit=world.unit_a, village=world.village_a2, started_on=START, by=county
    )
    assert_recorded(VillageLink, link.pk, county, "+")
    household = f.household(world.village_a, "刘长青")
    pairing = pairing_services.pair(cadre=world.cadre_a, household=household, started_on=START, by=town)
    assert_recorded(Pairing, pairing.pk, town, "+")
    pairing_services.end_relation(relation=pairing, ended_on=START, reason=Pairing.EndReason.OTHER, by=town)
    row = assert_recorded(Pairing, pairing.pk, town)
    assert row.ended_on == START
    others = [f.household(world.village_a, name) for name in ("陈一", "陈二")]
    for made in pairing_services.pair_many(
        cadre=f.cadre(world.unit_a, "吴明"), households=others, started_on=START, by=town
    ):
        assert_recorded(Pairing, made.pk, town, "+")  # bulk_create, recorded by the service
    successor = f.cadre(world.unit_a, "周新")
    handover = pairing_services.start_handover(
        cadre=world.cadre_a, new_status=Cadre.Status.TRANSFERRED, effective_on=START, by=town
    )
    for line in handover.lines.all():
        pairing_services.set_successor(line=line, successor=successor, by=town)
    ended = [line.pairing_id for line in handover.lines.all()]
    assert pairing_services.apply_handover(handover=handover, by=town) == len(ended)
    assert Handover.objects.get(pk=handover.pk).status == Handover.Status.APPLIED
    for pk in ended:
        assert assert_recorded(Pairing, pk, town).ended_on == START
    for opened in Pairing.objects.filter(cadre=successor):
        assert_recorded(Pairing, opened.pk, town, "+")
    assert_recorded(Cadre, world.cadre_a.pk, town)  # marked 调离

    # Demands: raised and acted on.
    demand = demand_services.raise_demand(
        household=world.household_a, category="住房", text="危房需改造", by=town, raised_on=START
    )
    assert_recorded(Demand, demand.pk, town, "+")
    demand_services.accept(demand=demand, by=town, text="已受理")
    assert_recorded(Demand, demand.pk, town)

    # Plans.
    plan = plan_services.save_household_plan(
        household=world.household_a, year=YEAR, data=household_data(), by=town
    )
    assert_recorded(HouseholdPlan, HouseholdPlan.objects.get().pk, town, "+")
    plan_services.save_village_plan(village=world.village_a, year=YEAR, data=village_data(), by=town)
    assert_recorded(VillagePlan, VillagePlan.objects.get().pk, town, "+")
    assert plan is not None

    # Locked months are written by the code that approves a month's report, as its actor.
    with history.acting(county):
        lock = LockedMonth.objects.create(region=world.county_a, month=datetime.date(2025, 4, 1))
    assert_recorded(LockedMonth, lock.pk, county, "+")


def test_an_overdue_demand_escalated_by_the_system_is_recorded_without_a_user(world):
    demand = demand_services.raise_demand(
        household=world.household_a,
        category="住房",
        text="危房需改造",
        by=world.users.town_a,
        raised_on=START,
    )
    Demand.objects.filter(pk=demand.pk).update(due_on=START)
    assert sum(demand_services.escalate_overdue().values()) == 1
    row = assert_recorded(Demand, demand.pk, None)
    assert row.level == Demand.objects.get(pk=demand.pk).level != demand.level


def test_an_import_records_changed_rows_by_the_user_and_new_ones_by_the_batch(world):
    from tests.test_import_households import family, household_workbook

    town = world.users.town_a
    data = household_workbook([family(1, "张三")])
    batch, result = import_services.run_import(
        data=data, filename="a.xlsx", kind="households", user=town, dry_run=False
    )
    assert result.applied and batch.created_by == town and len(batch.sha256) == 64
    assert batch.report and batch.created_households  # the batch is the record of the rows it wrote
    household = Household.objects.get(head_name="张三")
    changed = household_workbook([family(1, "张三", phone="13809319999")])
    _batch, result = import_services.run_import(
        data=changed, filename="b.xlsx", kind="households", user=town, dry_run=False
    )
    assert result.applied
    row = assert_recorded(Household, household.pk, town)  # bulk_update, recorded row by row
    assert row.phone == "13809319999"


# --- The 操作记录 section ---------------------------------------------------------------------


def test_the_household_page_shows_changes_with_who_and_masked_old_and_new_values(client, world):
    town = world.users.town_a
    household = world.household_a
    client.force_login(town)
    client.post(
        reverse("households:edit", args=[household.pk]),
        household_post(household, group="9社", phone="13912345678"),
    )
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    section = page[page.index("操作记录") :]
    assert town.acting_as in section
    assert "社（组）：" in section and "→ 9社" in section
    assert "13912345678" not in section and "139****5678" in section
    assert reverse("history") not in section  # the search is the offices'
    client.force_login(world.users.county_a)
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    link = f"{reverse('history')}?type=household&amp;object={household.pk}"
    assert link in page
    found = client.get(reverse("history"), {"type": "household", "object": household.pk}).context["entries"]
    assert found[0].who == town.acting_as and ("联系电话", "（空）", "139****5678") in [
        (c.field, c.old, c.new) for c in found[0].changes
    ]


def test_the_cadre_and_demand_pages_show_their_changes(client, world):
    town = world.users.town_a
    client.force_login(town)
    with history.acting(town):
        cadre = Cadre.objects.get(pk=world.cadre_a.pk)
        cadre.post = "副局长"
        cadre.save()
    page = client.get(reverse("pairing:cadre_detail", args=[cadre.pk])).content.decode()
    assert "操作记录" in page and "副局长" in page[page.index("操作记录") :]
    demand = demand_services.raise_demand(
        household=world.household_a, category="住房", text="危房需改造", by=town, raised_on=START
    )
    page = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "新建" in page[page.index("操作记录") :]


# --- The search --------------------------------------------------------------------------------


def _changed(obj, by, **values):
    with history.acting(by):
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()


def test_offices_search_by_user_object_and_date_within_their_scope(client, world):
    _changed(Household.objects.get(pk=world.household_a.pk), world.users.town_a, group="7社")
    _changed(Household.objects.get(pk=world.household_b.pk), world.users.town_b, group="8社")
    url = reverse("history")
    client.force_login(world.users.county_a)
    found = client.get(url, {"type": "household"}).context["entries"]
    seen = {entry.record.id for entry in found}
    assert world.household_a.pk in seen and world.household_b.pk not in seen  # not county B's
    assert [
        e.record.group for e in client.get(url, {"type": "household", "user": "town_a"}).context["entries"]
    ] == ["7社"]
    assert not client.get(url, {"type": "household", "user": "town_b"}).context["entries"]
    assert not client.get(url, {"type": "household", "object": world.household_b.pk}).context["entries"]
    today = datetime.date.today().isoformat()
    assert client.get(url, {"type": "household", "since": today, "until": today}).context["entries"]
    assert not client.get(url, {"type": "household", "until": "2013-01-01"}).context["entries"]
    for bad in (
        {"type": "nonsense"},
        {"object": "x"},
        {"since": "0000-00-00"},
        {"page": "-1"},
        {"user": "\x00"},
    ):
        assert client.get(url, bad).status_code == 200
    accounts = {entry.record.id for entry in client.get(url, {"type": "user"}).context["entries"]}
    assert world.users.town_a.pk in accounts and world.users.town_b.pk not in accounts
    client.force_login(world.users.admin)
    assert len(client.get(url, {"type": "household"}).context["entries"]) >= 2


def test_the_search_pages_the_history_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    for number in range(5):
        _changed(Household.objects.get(pk=world.household_a.pk), world.users.town_a, group=f"{number}社")
    client.force_login(world.users.county_a)
    # session, user, count, page of rows, rows before them
    with django_assert_max_num_queries(5):
        assert client.get(reverse("history"), {"type": "household"}).status_code == 200


@pytest.mark.parametrize("role", ["town_a", "unit_a"])
def test_the_search_is_for_offices(client, world, role):
    client.force_login(getattr(world.users, role))
    assert client.get(reverse("history")).status_code == 403


# --- A superuser's hard delete -----------------------------------------------------------------


def test_a_superuser_deleting_a_household_in_the_admin_keeps_the_whole_old_row(client, world):
    household = f.household(world.village_a, "误录户", members=2, phone="13800001111")
    members = list(household.members.values_list("pk", "name"))
    client.force_login(world.users.admin)
    url = reverse("admin:households_household_delete", args=[household.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Household.objects.filter(pk=household.pk).exists()
    row = assert_recorded(Household, household.pk, world.users.admin, "-")
    kept = {field.attname: getattr(row, field.attname) for field in Household._meta.concrete_fields}
    assert kept["head_name"] == "误录户" and kept["phone"] == "13800001111"
    assert kept["head_id_number"] == household.head_id_number and kept["village_id"] == world.village_a.pk
    for pk, name in members:
        assert assert_recorded(Member, pk, world.users.admin, "-").name == name


@pytest.mark.parametrize(
    "module",
    ["pairing.services", "demands.services", "plans.services", "visits.services", "reports.services"],
)
def test_every_service_that_takes_an_actor_records_it(module):
    import importlib
    import inspect

    services = importlib.import_module(module)
    taking_by = [
        name
        for name, function in inspect.getmembers(services, inspect.isfunction)
        if function.__module__ == module
        and not name.startswith("_")
        and "by" in inspect.signature(function).parameters
    ]
    assert taking_by
    assert [name for name in taking_by if not getattr(getattr(services, name), "records_actor", False)] == []


def test_a_proposal_applied_records_its_pairings_by_the_office(world):
    town = world.users.town_a
    household = f.household(world.village_a, "孙满仓")
    proposal = pairing_services.create_proposal(region=world.town_a, started_on=START, by=town)
    line = proposal.lines.get(household=household)
    pairing_services.change_line(line=line, cadre=f.cadre(world.unit_a, "钱进"), removed=False, by=town)
    assert pairing_services.apply_proposal(proposal=proposal, by=town) >= 1
    assert_recorded(Pairing, Pairing.objects.get(household=household).pk, town, "+")


@pytest.mark.parametrize("step", ["reply", "escalate", "resolve", "explain"])
def test_every_step_on_a_demand_records_who_took_it(world, step):
    town = world.users.town_a
    demand = demand_services.raise_demand(
        household=world.household_a, category="住房", text="危房需改造", by=town, raised_on=START
    )
    getattr(demand_services, step)(demand=demand, by=town, text="已办")
    row = assert_recorded(Demand, demand.pk, town)
    assert (row.status, row.level) == (
        Demand.objects.get(pk=demand.pk).status,
        Demand.objects.get(pk=demand.pk).level,
    )
