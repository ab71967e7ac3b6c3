"""What the visit save's cut queries used to guard still holds (issue 18 §4: the count itself is
pinned in tests/test_replays.py, QUERIES_PER_SAVE; bench/month_end.py measures the save under load)."""

import datetime

import pytest
from django.urls import reverse

from tests.test_visit_pages import entry
from visits.models import LockedMonth, Visit

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
