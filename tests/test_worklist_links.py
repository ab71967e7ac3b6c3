"""Worklists lead to the entry page (issue 16, item 7): each household row links to 录入走访 with
the household and its responsible cadre chosen, county lists name the township, every list
exports to .xlsx, and the household page and the township's home offer 录入走访."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from demands import services as demand_services
from tests import factories as f
from tests.queries import count_queries
from visits.models import Visit

ON = {"on": "2025-12-31"}


def chosen(body: str, pk: int) -> bool:
    """Whether the page's chooser has the option `pk` selected."""
    return re.search(rf'<option value="{pk}"[^>]*selected', body) is not None


def test_a_stale_row_links_to_the_entry_page_with_household_and_cadre_chosen(client, world):
    client.force_login(world.users.town_a)
    body = client.get(reverse("visits:worklist", args=["stale"]), ON).content.decode()
    link = f"{reverse('visits:new')}?household={world.household_a.pk}&amp;cadre={world.cadre_a.pk}"
    assert link in body
    entry = client.get(reverse("visits:new"), {"household": world.household_a.pk, "cadre": world.cadre_a.pk})
    page = entry.content.decode()
    assert chosen(page, world.household_a.pk) and chosen(page, world.cadre_a.pk)
    assert world.household_a.head_name in page


def test_an_outsiders_household_in_the_query_string_is_not_chosen(client, world):
    client.force_login(world.users.town_a)
    entry = client.get(reverse("visits:new"), {"household": world.household_b.pk})
    assert entry.status_code == 200
    assert not chosen(entry.content.decode(), world.household_b.pk)
    assert world.household_b.head_name not in entry.content.decode()
    for junk in ("abc", "-1", "99999999999999999999"):
        assert client.get(reverse("visits:new"), {"household": junk}).status_code == 200


def test_offices_see_no_entry_links_on_worklists(client, world):
    client.force_login(world.users.county_a)
    body = client.get(reverse("visits:worklist", args=["stale"]), ON).content.decode()
    assert world.household_a.head_name in body
    assert reverse("visits:new") not in body


def test_a_county_list_names_the_township_and_a_townships_does_not(client, world):
    client.force_login(world.users.county_a)
    body = client.get(reverse("visits:worklist", args=["stale"]), ON).content.decode()
    assert "<th>乡镇</th>" in body and world.town_a.name in body
    units = client.get(reverse("visits:worklist", args=["units"]), ON).content.decode()
    assert "<th>乡镇</th>" in units
    client.force_login(world.users.town_a)
    assert "<th>乡镇</th>" not in client.get(reverse("visits:worklist", args=["stale"]), ON).content.decode()


def read_back(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("kind", ["stale", "quarter", "cadres", "units"])
def test_every_worklist_exports_its_rows_to_xlsx(client, world, kind):
    client.force_login(world.users.county_a)
    url = reverse("visits:worklist", args=[kind])
    page = client.get(url, ON)
    rows = read_back(client.get(url, ON | {"format": "xlsx"}))
    assert len(rows) - 1 == page.context["page"].paginator.count > 0
    assert "format=xlsx" in page.content.decode()
    if kind in ("stale", "quarter"):
        assert rows[0][:3] == ["户主", "乡镇", "村"]
        assert [world.household_a.head_name, world.town_a.name, world.village_a.name] == rows[1][:3]


def test_the_export_has_every_page_in_one_query_count(client, world):
    client.force_login(world.users.county_a)
    url = reverse("visits:worklist", args=["stale"]) + "?on=2025-12-31&format=xlsx"
    few = count_queries(client, url)
    for index in range(30):
        f.pairing(f.cadre(world.unit_a, f"干部{index}"), f.household(world.village_a, f"户{index}"))
    assert count_queries(client, url) == few
    assert len(read_back(client.get(url))) == 1 + 31


def test_township_list_query_count_is_fixed(client, world):
    client.force_login(world.users.town_a)
    url = reverse("visits:worklist", args=["stale"]) + "?on=2025-12-31"
    few = count_queries(client, url)
    for index in range(12):
        f.pairing(f.cadre(world.unit_a, f"干部{index}"), f.household(world.village_a, f"户{index}"))
    assert count_queries(client, url) == few


def test_household_page_and_home_offer_entry_to_township_users_only(client, world):
    detail = reverse("households:detail", args=[world.household_a.pk])
    client.force_login(world.users.town_a)
    assert f"{reverse('visits:new')}?household={world.household_a.pk}" in client.get(detail).content.decode()
    assert "录入走访" in client.get(reverse("home")).content.decode()
    client.force_login(world.users.county_a)
    assert "录入走访" not in client.get(detail).content.decode()
    assert "录入走访" not in client.get(reverse("home")).content.decode()


def visit_with_demands(world, day, demands):
    visit = Visit.objects.create(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=day,
        mode=Visit.Mode.HOME,
        task_policy=True,
        task_emotion=True,
        recorded_by=world.users.town_a,
    )
    for text in demands:
        demand_services.raise_demand(
            household=world.household_a, category="住房", text=text, by=world.users.town_a, visit=visit
        )
    return visit


@pytest.mark.parametrize("page", ["households:detail", "visits:household"])
def test_the_timeline_shows_each_visits_tasks_and_the_demands_raised_in_it(client, world, page):
    visit_with_demands(world, datetime.date(2025, 5, 6), ["危房需要改造"])
    url = reverse(page, args=[world.household_a.pk])
    client.force_login(world.users.town_a)
    body = client.get(url).content.decode()
    assert "宣传政策、疏导情绪" in body
    assert "危房需要改造" in body and "提出诉求" in body
    few = count_queries(client, url)
    for index in range(3):
        visit_with_demands(world, datetime.date(2025, 6, 1 + index), [f"诉求{index}甲", f"诉求{index}乙"])
    assert count_queries(client, url) == few
    assert "诉求2乙" in client.get(url).content.decode()
