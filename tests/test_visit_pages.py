"""Entering visits through the page, the list and a household's timeline."""

import datetime
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from tests.queries import count_queries
from visits.models import Visit
from visits.services import record_visit


def entry(world, **overrides):
    data = {
        "household": world.household_a.pk,
        "cadre": "",
        "visited_on": "2025-05-12",
        "mode": "入户走访",
        "task_policy": "on",
        "task_development": "on",
        "diary": "看了新建的羊圈",
        "help_cash": "0",
        "help_goods": "",
        "help_goods_value": "0",
        "help_project": "",
        "next_steps": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def test_entry_takes_the_responsible_cadre_and_records_the_clerk(client, world):
    client.force_login(world.users.town_a)
    response = client.post(reverse("visits:new"), entry(world))
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.cadre, visit.recorded_by) == (world.cadre_a, world.users.town_a)
    assert visit.tasks == ["宣传政策", "促进发展"]
    timeline = client.get(reverse("visits:household", args=[world.household_a.pk])).content.decode()
    assert "看了新建的羊圈" in timeline and "由 town_a" in timeline


def test_save_and_next_keeps_village_and_cadre(client, world):
    client.force_login(world.users.town_a)
    response = client.post(reverse("visits:new"), entry(world, next="1"))
    assert response.url == f"{reverse('visits:new')}?village={world.village_a.code}&cadre={world.cadre_a.pk}"
    page = client.get(response.url)
    assert page.context["form"].fields["household"].widget.params == {"village": world.village_a.code}
    assert page.context["form"].initial["cadre"] == str(world.cadre_a.pk)
    assert [c.pk for c in page.context["form"].fields["cadre"].queryset] == [world.cadre_a.pk]


def test_entry_builds_a_chooser_only_for_a_chosen_value(client, world, monkeypatch):
    # The scoped choosers are the page's dearest querysets; an empty page searches through the lookups.
    from households.models import HouseholdQuerySet
    from pairing.models import CadreQuerySet

    built = []
    for queryset_class, name in ((HouseholdQuerySet, "household"), (CadreQuerySet, "cadre")):
        original = queryset_class.visible_to
        monkeypatch.setattr(
            queryset_class,
            "visible_to",
            lambda self, user, name=name, original=original: built.append(name) or original(self, user),
        )
    client.force_login(world.users.town_a)
    assert client.get(reverse("visits:new")).status_code == 200
    assert built == []
    assert client.get(reverse("visits:new"), {"cadre": world.cadre_a.pk}).status_code == 200
    assert built == ["cadre"]
    built.clear()
    assert client.post(reverse("visits:new"), entry(world)).status_code == 302
    assert sorted(built) == ["cadre", "household"]


def test_a_refusal_is_shown_on_the_form(client, world):
    client.force_login(world.users.town_a)
    other = f.cadre(world.unit_a, "周新来")
    response = client.post(reverse("visits:new"), entry(world, cadre=other.pk))
    assert response.status_code == 200
    assert "未联系" in response.content.decode()
    assert not Visit.objects.exists()


def test_double_submit_saves_once(client, world):
    client.force_login(world.users.town_a)
    data = entry(world)
    client.post(reverse("visits:new"), data)
    client.post(reverse("visits:new"), data)
    assert Visit.objects.count() == 1


def test_another_townships_household_cannot_be_chosen(client, world):
    client.force_login(world.users.town_a)
    response = client.post(reverse("visits:new"), entry(world, household=world.household_b.pk))
    assert response.status_code == 200 and "household" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_list_query_count_is_fixed(client, world):
    client.force_login(world.users.county_a)
    url = reverse("visits:list")
    record_visit(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=datetime.date(2025, 4, 30),
        by=world.users.town_a,
    )
    few = count_queries(client, url)
    for day in range(1, 21):
        record_visit(
            household=world.household_a,
            cadre=world.cadre_a,
            visited_on=datetime.date(2025, 5, day),
            by=world.users.town_a,
        )
    assert count_queries(client, url) == few
    response = client.get(url, {"month": "2025-05", "mode": "入户走访"})
    assert response.context["page"].paginator.count == 20


def test_lists_name_the_person_who_entered_a_visit(client, world):
    clerk = world.users.town_a
    clerk.first_name = "常晓燕"
    clerk.save(update_fields=["first_name"])
    record_visit(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=datetime.date(2025, 4, 30),
        mode=Visit.Mode.HOME,
        diary="了解生产情况",
        by=clerk,
    )
    client.force_login(clerk)
    for url in (
        reverse("visits:list") + "?month=2025-04",
        reverse("visits:household", args=[world.household_a.pk]),
    ):
        page = client.get(url).content.decode()
        assert "常晓燕" in page and "town_a" not in page.split("<main", 1)[-1], url


def test_list_joins_cadres_and_households_for_the_shown_page_only(client, world, settings):
    """The page's visits are picked from the scope alone, then only they are joined to their
    household, village, cadre and clerk, in the same query (issue 18): the order and the paging
    stay those of the whole list."""
    settings.PAGE_SIZE = 3
    saved = [
        record_visit(
            household=world.household_a,
            cadre=world.cadre_a,
            visited_on=datetime.date(2025, 5, day),
            by=world.users.town_a,
            mode=mode,
        ).pk
        for day in (3, 1, 2)
        for mode in (Visit.Mode.HOME, Visit.Mode.PHONE)
    ]
    record_visit(  # another township's: never listed
        household=world.household_b,
        cadre=world.cadre_b,
        visited_on=datetime.date(2025, 5, 4),
        by=world.users.town_a,
    )
    newest_first = list(Visit.objects.filter(pk__in=saved).order_by("-visited_on", "-pk"))
    client.force_login(world.users.town_a)
    url = reverse("visits:list")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
    made = list(queries.captured_queries)  # read before the next request resets the log
    second = client.get(url, {"page": 2})
    assert first.context["page"].paginator.count == 6
    assert list(first.context["page"]) + list(second.context["page"]) == newest_first
    assert world.household_a.head_name in first.content.decode()
    assert world.cadre_a.name in first.content.decode()
    # Session, user, the COUNT, and the page: one query joins the cadres, over a page of ids.
    assert len(made) == 4
    joined = [q["sql"] for q in made if "pairing_cadre" in q["sql"]]
    assert len(joined) == 1 and "LIMIT 3" in joined[0].split(" IN (", 1)[1]
