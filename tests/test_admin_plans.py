"""Plan versions in the admin: read-only, scoped like the plans, a fixed number of queries."""

from django.urls import reverse

from plans import services
from tests import factories as f
from tests.queries import count_queries
from tests.test_plans import YEAR, household_data, village_data


def household_plan(world, household=None, *, versions=1, by=None):
    household = household or world.household_a
    for number in range(versions):
        plan, _version = services.save_household_plan(
            household=household,
            year=YEAR,
            data=household_data(targets=f"目标第{number + 1}版"),
            by=by or world.users.town_a,
        )
    return plan


def change_page(plan):
    return reverse(f"admin:plans_{plan._meta.model_name}_change", args=[plan.pk])


def test_the_change_page_lists_every_version_with_what_it_held(client, world):
    plan = household_plan(world, versions=2)
    client.force_login(world.users.town_a)
    response = client.get(change_page(plan))
    assert response.status_code == 200
    body = response.content.decode()
    assert "户帮扶计划版本" in body and "目标第1版" in body and "目标第2版" in body
    assert (
        "第 2 版" in body and "制定计划" in body and "帮扶目标" in body
    )  # version 1, then version 2's change
    assert "产业、务工" in body  # the measures a version held, readable
    assert 'name="versions-0-number"' not in body  # shown, never editable


def test_a_village_plans_versions_show_its_projects(client, world):
    plan, _version = services.save_village_plan(
        village=world.village_a, year=YEAR, data=village_data(), by=world.users.town_a
    )
    client.force_login(world.users.county_a)
    body = client.get(change_page(plan)).content.decode()
    assert "村帮扶计划版本" in body and "梯田改造 200000.00" in body and "肉羊养殖" in body


def test_another_townships_plan_and_its_versions_are_not_reachable(client, world):
    plan = household_plan(world, versions=2)
    client.force_login(world.users.town_b)
    response = client.get(change_page(plan))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    body = client.get(reverse("admin:plans_householdplan_changelist")).content.decode()
    assert "王建国" not in body


def test_the_change_page_runs_the_same_queries_however_many_versions(client, world):
    short = household_plan(world, versions=1)
    other = f.household(world.village_a, "多版户", members=2)
    long = household_plan(world, other, versions=12)
    client.force_login(world.users.town_a)
    client.get(change_page(short))  # warm the per-process caches (content types)
    assert count_queries(client, change_page(long)) == count_queries(client, change_page(short))


def test_the_changelist_runs_the_same_queries_however_many_plans(client, world):
    url = reverse("admin:plans_householdplan_changelist")
    for username in ("admin", "city_a"):
        client.force_login(getattr(world.users, username))
        household_plan(world, f.household(world.village_a, f"{username}户0", members=1), versions=2)
        client.get(url)
        few = count_queries(client, url)
        for number in range(1, 8):
            household_plan(
                world, f.household(world.village_a, f"{username}户{number}", members=1), versions=2
            )
        assert count_queries(client, url) == few, username
