"""What the visit save's cut queries used to guard still holds (issue 18 §4: the count itself is
pinned in tests/test_replays.py, QUERIES_PER_SAVE; bench/month_end.py measures the save under load)."""

import datetime

import pytest
from django.urls import reverse

from tests.test_visit_pages import entry
from visits.models import HouseholdContact, LockedMonth, VillageMonthTally, Visit, VisitTally

# The page posts its demand rows (empty) with every save; they add nothing.
EMPTY_DEMAND_ROWS = {
    "demands-TOTAL_FORMS": "2",
    "demands-INITIAL_FORMS": "0",
    "demands-MIN_NUM_FORMS": "0",
    "demands-MAX_NUM_FORMS": "1000",
    "demands-0-category": "",
    "demands-0-text": "",
    "demands-1-category": "",
    "demands-1-text": "",
}


def save(client, world, **overrides):
    return client.post(reverse("visits:new"), entry(world, **overrides) | EMPTY_DEMAND_ROWS)


@pytest.fixture
def clerk(client, world):
    client.force_login(world.users.town_a)
    client.get(reverse("visits:new"))  # the session as a clerk has it when saving
    return client


def test_one_query_still_tells_not_paired_before_locked(clerk, world):
    # Pairing and month lock are read together; a visit that fails both hears about the pairing.
    LockedMonth.objects.create(region=world.county_a, month=datetime.date(2025, 5, 1))
    response = save(clerk, world, visited_on="2025-05-12")
    assert "已锁定" in response.content.decode() and not Visit.objects.exists()
    world.household_a.pairings.update(started_on=datetime.date(2025, 5, 20))
    response = save(clerk, world, visited_on="2025-05-12", cadre=str(world.cadre_a.pk))
    page = response.content.decode()
    assert "未联系" in page and "已锁定" not in page and not Visit.objects.exists()


def test_a_negative_sum_is_still_refused_under_its_field(clerk, world):
    # The model's check of visit_help_not_negative is skipped on the page: the field refuses first.
    response = save(clerk, world, help_cash="-5", help_goods_value="-1")
    form = response.context["form"]
    assert form.errors["help_cash"] == ["不能为负数"] and form.errors["help_goods_value"] == ["不能为负数"]
    assert not Visit.objects.exists()


def test_no_responsible_cadre_and_none_chosen_is_still_refused(clerk, world):
    # The responsible cadre is now looked up in the service's one look, with the pairing and lock.
    world.household_a.pairings.update(started_on=datetime.date(2025, 5, 20))
    response = save(clerk, world, visited_on="2025-05-12")
    assert "在该日没有帮扶责任人，请选择走访干部" in response.content.decode()
    assert not Visit.objects.exists() and not VisitTally.objects.exists()


def test_a_visit_entered_twice_is_refused_and_the_next_save_still_counts(clerk, world):
    # The insert has no savepoint of its own: losing on the one-a-day key rolls the save back whole.
    assert save(clerk, world).status_code == 302
    response = save(clerk, world)  # a fresh key, the same cadre, household, day and mode
    assert response.status_code == 200 and "已登记过" in response.content.decode()
    assert save(clerk, world, mode="电话").status_code == 302
    assert Visit.objects.count() == 2
    assert VisitTally.objects.get().visits == 2 and HouseholdContact.objects.count() == 1
    month = VillageMonthTally.objects.get()
    assert (month.home_visits, month.contacts, month.households_contacted) == (1, 1, 1)


def test_a_second_press_after_the_pairing_ended_is_still_told_it_saved(clerk, world):
    # The key is looked up with the pairing; with no pairing left, it is looked up on its own.
    data = entry(world) | EMPTY_DEMAND_ROWS
    assert clerk.post(reverse("visits:new"), data).status_code == 302
    world.household_a.pairings.update(ended_on=datetime.date(2025, 5, 1))
    second = clerk.post(reverse("visits:new"), data)
    assert second.status_code == 302 and Visit.objects.count() == 1
    assert VisitTally.objects.get().visits == 1
