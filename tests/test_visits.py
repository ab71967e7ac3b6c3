"""Recording visits: every refusal, and scoping."""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError

from pairing.services import end_relation
from tests import factories as f
from visits.models import LockedMonth, Visit
from visits.services import is_month_locked, record_visit

DAY = datetime.date(2025, 5, 12)


def visit(world, **overrides):
    fields = {
        "household": world.household_a,
        "cadre": world.cadre_a,
        "visited_on": DAY,
        "by": world.users.town_a,
        "mode": Visit.Mode.HOME,
        "task_policy": True,
        "diary": "了解春耕情况",
    }
    fields.update(overrides)
    return record_visit(**fields)


def refusal(world, **overrides):
    with pytest.raises(ValidationError) as caught:
        visit(world, **overrides)
    return caught.value


def test_a_visit_records_who_did_it_and_who_entered_it(world):
    saved = visit(world)
    assert (saved.cadre, saved.recorded_by) == (world.cadre_a, world.users.town_a)
    assert saved.recorded_at is not None
    assert saved.tasks == ["宣传政策"]


def test_refused_when_the_cadre_was_not_paired_that_day(world):
    error = refusal(world, cadre=world.cadre_b)
    assert error.code == "not_paired" and "马志刚" in error.messages[0]
    assert refusal(world, visited_on=f.START - datetime.timedelta(days=1)).code == "not_paired"
    pairing = world.household_a.pairings.get()
    end_relation(relation=pairing, ended_on=datetime.date(2025, 3, 31), reason="调动")
    assert refusal(world, visited_on=datetime.date(2025, 4, 1)).code == "not_paired"
    assert visit(world, visited_on=datetime.date(2025, 3, 30)).pk  # still paired then


def test_refused_twice_for_the_same_cadre_household_day_and_mode(world):
    visit(world)
    error = refusal(world)
    assert error.code == "duplicate" and "已登记过" in error.messages[0]
    assert visit(world, mode=Visit.Mode.PHONE).pk  # another mode the same day is another contact
    assert Visit.objects.count() == 2


def test_a_double_clicked_submit_saves_once(world):
    key = uuid.uuid4()
    first = visit(world, submission_key=key)
    second = visit(world, submission_key=key)
    assert first.pk == second.pk and Visit.objects.count() == 1


def test_refused_in_the_future(world):
    assert refusal(world, visited_on=datetime.date.today() + datetime.timedelta(days=2)).code == "future"


def test_refused_in_a_locked_month_at_any_level_above(world):
    LockedMonth.objects.create(region=world.county_a, month=datetime.date(2025, 5, 1))
    assert is_month_locked(world.village_a.code, DAY)
    assert not is_month_locked(world.village_b.code, DAY)
    assert not is_month_locked(world.village_a.code, datetime.date(2025, 6, 3))
    error = refusal(world)
    assert error.code == "locked" and "2025年5月" in error.messages[0]


def test_home_visits_and_contacts_are_counted_apart(world):
    visit(world)
    visit(world, mode=Visit.Mode.PHONE)
    visit(world, mode=Visit.Mode.CONTACT_CARD, visited_on=DAY + datetime.timedelta(days=1))
    assert Visit.objects.home_visits().count() == 1
    assert Visit.objects.contacts().count() == 2
    assert Visit.objects.in_month(2025, 5).count() == 3


def test_visits_are_scoped(world):
    visit(world)
    record_visit(household=world.household_b, cadre=world.cadre_b, visited_on=DAY, by=world.users.town_b)
    assert [v.household for v in Visit.objects.visible_to(world.users.town_a)] == [world.household_a]
    assert [v.household for v in Visit.objects.visible_to(world.users.unit_b)] == [world.household_b]
    assert Visit.objects.visible_to(world.users.province).count() == 2
