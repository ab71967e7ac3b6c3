"""The three floors: each rule, its edges, and the database filter agreeing with the page."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from households import floors
from households.choices import Category, Health, HouseholdStatus, Relation, Schooling
from households.models import Household
from shuanglian.lib import idcard
from tests import factories as f
from tests.queries import count_queries

TODAY = datetime.date(2026, 6, 15)
_sequence = itertools.count(600)


def child(household, born: datetime.date, **fields):
    number = idcard.make(household.village_id[:6], born, next(_sequence))
    return f.member(household, "孩子", number, Relation.SON, **fields)


def floors_of(household, today=TODAY) -> set[str]:
    return {alert.floor for alert in floors.alerts(household, list(household.members.all()), today)}


def filtered(today=TODAY) -> set[int]:
    """The households the database filter finds, checked to be the same in both of its plans
    (a hash of the matching members, or a look-up per household)."""
    found = set(floors.with_alerts(Household.objects.all(), today).values_list("pk", flat=True))
    probed = Household.objects.filter(floors.alert_q(today, per_household=True))
    assert set(probed.values_list("pk", flat=True)) == found
    return found


@pytest.fixture
def village(world):
    return world.village_a2


def lone(village, **fields):
    """A household of one adult head: breaks no floor unless the test makes it."""
    return f.household(village, "单人户", members=1, **fields)


class TestLiving:
    @pytest.mark.parametrize(
        ("category", "income", "alert"),
        [
            (Category.GENERAL_POOR, "2967.99", True),
            (Category.GENERAL_POOR, "2968.00", False),  # at the line is not below it
            (Category.ORDINARY, "1000", True),
            (Category.DIBAO, "1000", False),
            (Category.DIBAO_POOR, "1000", False),
            (Category.WUBAO, "1000", False),
            (Category.GENERAL_POOR, None, False),  # unknown income raises no alarm
        ],
    )
    def test_income_below_the_line_without_dibao(self, village, category, income, alert):
        household = lone(village, category=category, income_per_head=Decimal(income) if income else None)
        assert (floors.LIVING in floors_of(household)) is alert
        assert (household.pk in filtered()) is alert

    def test_a_county_line_overrides_the_default(self, village):
        household = lone(village, income_per_head=Decimal("3000"))
        assert household.pk not in filtered()
        with override_settings(FLOOR_INCOME_LINE_BY_COUNTY={village.code[:6]: 3100}):
            assert floors.LIVING in floors_of(household)
            assert household.pk in filtered()
        with override_settings(FLOOR_INCOME_LINE_BY_COUNTY={"622926": 3100}):
            assert household.pk not in filtered()


class TestSchool:
    @pytest.mark.parametrize(
        ("born", "alert"),
        [
            (datetime.date(2020, 6, 15), True),  # sixth birthday today
            (datetime.date(2020, 6, 16), False),  # still five
            (datetime.date(2010, 6, 16), True),  # fifteen, sixteen tomorrow
            (datetime.date(2010, 6, 15), False),  # sixteenth birthday today
        ],
    )
    def test_edge_ages(self, village, born, alert):
        household = lone(village)
        child(household, born, schooling=Schooling.NOT_ENROLLED)
        assert (floors.SCHOOL in floors_of(household)) is alert
        assert (household.pk in filtered()) is alert

    @pytest.mark.parametrize(
        ("schooling", "alert"),
        [
            (Schooling.DROPPED_OUT, True),
            (Schooling.NOT_ENROLLED, True),
            (Schooling.PRIMARY, False),
            (Schooling.JUNIOR, False),
        ],
    )
    def test_only_children_out_of_school(self, village, schooling, alert):
        household = lone(village)
        child(household, datetime.date(2014, 1, 1), schooling=schooling)
        assert (floors.SCHOOL in floors_of(household)) is alert
        assert (household.pk in filtered()) is alert

    def test_born_on_29_february(self, village):
        household = lone(village)
        child(household, datetime.date(2012, 2, 29))
        # In 2028 (a leap year) the sixteenth birthday is 29 February.
        assert floors.SCHOOL in floors_of(household, datetime.date(2028, 2, 28))
        assert floors.SCHOOL not in floors_of(household, datetime.date(2028, 2, 29))
        assert household.pk in filtered(datetime.date(2028, 2, 28))
        assert household.pk not in filtered(datetime.date(2028, 2, 29))

    def test_ages_are_a_setting(self, village):
        household = lone(village)
        child(household, datetime.date(2009, 1, 1))  # seventeen
        assert floors.SCHOOL not in floors_of(household)
        with override_settings(FLOOR_SCHOOL_AGE=(6, 18)):
            assert floors.SCHOOL in floors_of(household)
            assert household.pk in filtered()


class TestMedical:
    @pytest.mark.parametrize(
        ("health", "insured", "alert"),
        [
            (Health.SERIOUS, False, True),
            (Health.CHRONIC, False, True),
            (Health.SERIOUS, True, False),
            (Health.HEALTHY, False, False),
            (Health.DISABLED, False, False),
        ],
    )
    def test_ill_without_insurance(self, village, health, insured, alert):
        household = lone(village)
        head = household.members.get()
        head.health, head.has_medical_insurance = health, insured
        head.save()
        assert (floors.MEDICAL in floors_of(household)) is alert
        assert (household.pk in filtered()) is alert


def test_closed_households_raise_no_alert(village):
    household = lone(village, income_per_head=Decimal("100"), status=HouseholdStatus.CLOSED)
    assert floors_of(household) == set()
    assert household.pk not in filtered()


def test_page_shows_alerts_and_list_filters_them(client, world, village):
    ok = lone(village, income_per_head=Decimal("5000"))
    poor = lone(village, income_per_head=Decimal("1200"))
    client.force_login(world.users.county_a)
    body = client.get(reverse("households:detail", args=[poor.pk])).content.decode()
    assert "底线预警" in body and "不能生活不下去" in body
    assert "底线预警" not in client.get(reverse("households:detail", args=[ok.pk])).content.decode()

    response = client.get(reverse("households:list"), {"floor_alert": "on", "village": village.code})
    # The world's household there has a 14-year-old the factory leaves out of school.
    assert {h.pk for h in response.context["page"]} == {poor.pk, world.household_a2.pk}


def test_filtered_list_keeps_a_fixed_query_count(client, world, village):
    client.force_login(world.users.town_a)
    url = reverse("households:list") + "?floor_alert=on"
    few = count_queries(client, url)
    for index in range(10):
        household = lone(world.village_a, income_per_head=Decimal("1000"))
        child(household, datetime.date(2015, 3, 1))
    assert count_queries(client, url) == few


def test_the_report_figure_counts_the_households_the_rule_finds(world):
    """households_floor_alert (plans/indicators.py) for a township (a look-up per household) and a
    county (one hash of the members) against the rule run in Python on each household."""
    from django.utils import timezone

    from shuanglian import indicators
    from shuanglian.indicators import Scope

    today = timezone.localdate()
    lone(world.village_a, income_per_head=Decimal("1000"))
    lone(world.village_a2, income_per_head=Decimal("9000"))
    sick = lone(world.village_a2, income_per_head=Decimal("9000"))
    sick.members.update(health=Health.SERIOUS, has_medical_insurance=False)
    child(lone(world.village_a, income_per_head=Decimal("9000")), today.replace(year=today.year - 9))
    lone(world.village_a, income_per_head=Decimal("100"), status=HouseholdStatus.CLOSED)

    def by_rule(prefix):
        return sum(
            1
            for household in Household.objects.all()
            if household.village_id.startswith(prefix)
            and floors.alerts(household, list(household.members.all()), today)
        )

    for region in (world.town_a, world.town_a2, world.county_a):
        prefix = region.code[: {"township": 9, "county": 6}[region.level]]
        counted = indicators.value("households_floor_alert", Scope(prefix=prefix))
        assert counted == by_rule(prefix) > 0, region.name
