"""Unit visits to a linked village (单位联村走访): each refusal, scoping and the entry page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pairing.services import end_relation
from tests import factories as f
from tests.queries import count_queries
from visits.models import LockedMonth, UnitVisit
from visits.services import record_unit_visit

DAY = datetime.date(2025, 5, 12)


def unit_visit(world, **overrides):
    fields = {
        "unit": world.unit_a,
        "village": world.village_a,
        "visited_on": DAY,
        "cadres": [world.cadre_a],
        "activities": "召开村民代表会，商议修路",
        "by": world.users.unit_a,
    }
    fields.update(overrides)
    return record_unit_visit(**fields)


def refusal(world, **overrides):
    with pytest.raises(ValidationError) as caught:
        unit_visit(world, **overrides)
    return caught.value


def test_a_unit_visit_records_the_cadres_and_the_clerk(world):
    saved = unit_visit(world)
    assert list(saved.cadres.all()) == [world.cadre_a]
    assert (saved.unit, saved.village, saved.recorded_by) == (
        world.unit_a,
        world.village_a,
        world.users.unit_a,
    )


def test_refused_for_a_village_the_unit_was_not_linked_with_that_day(world):
    error = refusal(world, village=world.village_a2)
    assert (
        error.code == "not_linked" and "未联系" in error.messages[0] and "鸡川村民委员会" in error.messages[0]
    )
    assert refusal(world, visited_on=f.START - datetime.timedelta(days=1)).code == "not_linked"
    end_relation(
        relation=world.unit_a.village_links.get(), ended_on=datetime.date(2025, 3, 31), reason="调整"
    )
    assert refusal(world, visited_on=datetime.date(2025, 4, 1)).code == "not_linked"
    assert unit_visit(world, visited_on=datetime.date(2025, 3, 30)).pk  # still linked then
    assert UnitVisit.objects.count() == 1


def test_refused_with_a_cadre_of_another_unit_or_none(world):
    error = refusal(world, cadres=[world.cadre_a, world.cadre_b])
    assert error.code == "other_unit" and "马志刚" in error.messages[0]
    assert refusal(world, cadres=[]).code == "no_cadres"
    assert refusal(world, activities="  ").code == "no_activities"
    assert not UnitVisit.objects.exists()


def test_refused_in_the_future_twice_or_in_a_locked_month(world):
    assert refusal(world, visited_on=datetime.date.today() + datetime.timedelta(days=1)).code == "future"
    unit_visit(world)
    error = refusal(world)
    assert error.code == "duplicate" and "已登记过" in error.messages[0]
    LockedMonth.objects.create(region=world.town_a, month=datetime.date(2025, 6, 1))
    error = refusal(world, visited_on=datetime.date(2025, 6, 3))
    assert error.code == "locked" and "2025年6月" in error.messages[0]
    assert UnitVisit.objects.count() == 1


def test_unit_visits_are_scoped(world):
    unit_visit(world)
    record_unit_visit(
        unit=world.unit_b,
        village=world.village_b,
        visited_on=DAY,
        cadres=[world.cadre_b],
        activities="走访",
        by=world.users.town_b,
    )
    assert [v.unit for v in UnitVisit.objects.visible_to(world.users.unit_a)] == [world.unit_a]
    assert [v.unit for v in UnitVisit.objects.visible_to(world.users.town_b)] == [world.unit_b]
    assert not UnitVisit.objects.visible_to(world.users.county_b).filter(unit=world.unit_a).exists()
    assert UnitVisit.objects.visible_to(world.users.province).count() == 2


def form_data(world, **overrides):
    data = {
        "link": world.unit_a.village_links.get().pk,
        "visited_on": "2025-05-12",
        "cadres": [world.cadre_a.pk],
        "activities": "帮助村里谋划马铃薯产业",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("username", ["unit_a", "town_a"])
def test_entry_page_saves_for_the_unit_liaison_and_the_township(client, world, username):
    client.force_login(getattr(world.users, username))
    response = client.post(reverse("visits:unit_visit_new"), form_data(world))
    assert response.status_code == 302
    saved = UnitVisit.objects.get()
    assert (saved.unit, saved.recorded_by.username) == (world.unit_a, username)
    listing = client.get(reverse("visits:unit_visit_list")).content.decode()
    assert "帮助村里谋划马铃薯产业" in listing and "李文华" in listing


def test_entry_page_shows_a_refusal_and_hides_other_scopes(client, world):
    client.force_login(world.users.unit_a)
    response = client.post(reverse("visits:unit_visit_new"), form_data(world, visited_on="2024-01-05"))
    assert response.status_code == 200 and "未联系" in response.content.decode()
    client.force_login(world.users.town_b)  # village A's link is not town B's to choose
    response = client.post(reverse("visits:unit_visit_new"), form_data(world))
    assert response.status_code == 200 and "link" in response.context["form"].errors
    assert not UnitVisit.objects.exists()


def test_unit_visit_list_query_count_is_fixed(client, world):
    client.force_login(world.users.county_a)
    url = reverse("visits:unit_visit_list")
    unit_visit(world, visited_on=datetime.date(2025, 4, 1))
    few = count_queries(client, url)
    extra = f.cadre(world.unit_a, "周新来")
    for day in range(2, 22):
        unit_visit(world, visited_on=datetime.date(2025, 4, day), cadres=[world.cadre_a, extra])
    assert count_queries(client, url) == few
    assert client.get(url, {"month": "2025-04"}).context["page"].paginator.count == 21
