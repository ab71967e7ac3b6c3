"""Households working away, contacts apart from home visits, and the household page's visit timeline."""

import datetime

from django.urls import reverse

from households.models import Household
from tests.queries import count_queries
from visits.models import Visit
from visits.services import record_visit


def edit_data(household, **changes):
    data = {
        "village": household.village_id,
        "group": household.group,
        "category": household.category,
        "main_cause": household.main_cause,
        "income_per_head": "",
        "housing": "",
        "phone": household.phone,
        "status": household.status,
        "version": household.version,
    }
    data.update(changes)
    return data


def test_mode_helper_tells_contacts_from_home_visits():
    contacts = {mode for mode in Visit.Mode if mode.is_contact}
    assert contacts == {Visit.Mode.PHONE, Visit.Mode.SMS, Visit.Mode.LETTER, Visit.Mode.CONTACT_CARD}


def test_edit_marks_a_household_working_away(client, world):
    household = world.household_a
    client.force_login(world.users.town_a)
    url = reverse("households:edit", args=[household.pk])
    response = client.post(
        url, edit_data(household, working_away="on", working_away_place="", working_away_since="")
    )
    assert response.status_code == 200
    assert "外出务工户请填写务工地点" in response.content.decode()

    data = edit_data(
        household, working_away="on", working_away_place="新疆乌鲁木齐市", working_away_since="2025-03-01"
    )
    assert client.post(url, data).status_code == 302
    household.refresh_from_db()
    assert (household.working_away, household.working_away_place) == (True, "新疆乌鲁木齐市")
    assert household.working_away_since == datetime.date(2025, 3, 1)
    assert "新疆乌鲁木齐市" in client.get(reverse("households:detail", args=[household.pk])).content.decode()

    # Back home: where and since when are cleared with the box.
    assert client.post(url, edit_data(household, working_away_place="新疆乌鲁木齐市")).status_code == 302
    household.refresh_from_db()
    assert (household.working_away, household.working_away_place, household.working_away_since) == (
        False,
        "",
        None,
    )


def test_list_filters_households_working_away(client, world):
    Household.objects.filter(pk=world.household_a.pk).update(working_away=True, working_away_place="兰州市")
    client.force_login(world.users.county_a)
    response = client.get(reverse("households:list"), {"working_away": "on"})
    assert [h.pk for h in response.context["page"]] == [world.household_a.pk]
    assert "外出务工" in response.content.decode()


def visits_of(world):
    by = world.users.town_a
    home = record_visit(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=datetime.date(2025, 5, 1),
        mode=Visit.Mode.HOME,
        diary="看了羊圈",
        by=by,
    )
    phone = record_visit(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=datetime.date(2025, 6, 1),
        mode=Visit.Mode.PHONE,
        diary="电话问候",
        by=by,
    )
    return home, phone


def test_household_page_shows_a_timeline_with_contacts_marked(client, world):
    home, phone = visits_of(world)
    client.force_login(world.users.county_a)
    response = client.get(reverse("households:detail", args=[world.household_a.pk]))
    body = response.content.decode()
    assert "入户走访 1 次 · 联系 1 次" in body
    assert body.index("电话问候") < body.index("看了羊圈")  # newest first
    assert "由 town_a" in body and world.cadre_a.name in body
    assert body.count('class="card contact"') == 1


def test_visit_list_shows_contacts_apart(client, world):
    home, phone = visits_of(world)
    client.force_login(world.users.town_a)
    url = reverse("visits:list")
    assert [v.pk for v in client.get(url, {"kind": "contact"}).context["page"]] == [phone.pk]
    assert [v.pk for v in client.get(url, {"kind": "home"}).context["page"]] == [home.pk]


def test_household_page_query_count_does_not_grow_with_visits(client, world):
    client.force_login(world.users.town_a)
    url = reverse("households:detail", args=[world.household_a.pk])
    # From one visit: with none, the per-visit extras (demands raised in each) have nothing to fetch.
    record_visit(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=datetime.date(2025, 1, 2),
        mode=Visit.Mode.HOME,
        by=world.users.town_a,
    )
    few = count_queries(client, url)
    for month in range(1, 12):
        record_visit(
            household=world.household_a,
            cadre=world.cadre_a,
            visited_on=datetime.date(2025, month, 3),
            mode=Visit.Mode.SMS if month % 2 else Visit.Mode.HOME,
            by=world.users.town_a,
        )
    assert count_queries(client, url) == few
