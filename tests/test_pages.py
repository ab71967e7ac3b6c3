"""The staff pages: what they show, how they filter, and that their query count is fixed."""

import pytest
from django.urls import reverse

from households.choices import Category
from households.models import Household, Region
from pairing.models import Cadre
from tests import factories as f
from tests.queries import count_queries


def listed_heads(response):
    return [household.head_name for household in response.context["page"]]


class TestHouseholdList:
    def test_search_by_name_member_name_and_id_tail(self, client, world):
        client.force_login(world.users.county_a)
        url = reverse("households:list")
        assert listed_heads(client.get(url, {"q": "王建国"})) == ["王建国"]
        assert listed_heads(client.get(url, {"q": "王小2"})) == ["王建国"]  # a member's name
        tail = world.household_a2.head_id_number[-6:]
        assert listed_heads(client.get(url, {"q": tail})) == ["赵德胜"]
        # Full-width digits and spaces typed by hand are normalised.
        full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in tail)
        assert listed_heads(client.get(url, {"q": f" {full_width}\u3000"})) == ["赵德胜"]

    def test_filters(self, client, world):
        f.household(world.village_a, "陈有才", category=Category.ORDINARY, main_cause="因病", status="已脱贫")
        client.force_login(world.users.town_a)
        url = reverse("households:list")
        assert listed_heads(client.get(url, {"category": "一般农户"})) == ["陈有才"]
        assert listed_heads(client.get(url, {"cause": "因病"})) == ["陈有才"]
        assert listed_heads(client.get(url, {"status": "已脱贫"})) == ["陈有才"]
        assert sorted(listed_heads(client.get(url, {"village": world.village_a.code}))) == [
            "王建国",
            "陈有才",
        ]

    def test_village_filter_only_offers_villages_in_scope(self, client, world):
        client.force_login(world.users.town_a)
        response = client.get(reverse("households:list"))
        offered = {village.code for village in response.context["form"].fields["village"].queryset}
        assert offered == {world.village_a.code}
        response = client.get(reverse("households:list"), {"village": world.village_b.code})
        assert listed_heads(response) == ["王建国"]  # the foreign village is ignored, not obeyed

    def test_region_filter_from_the_drill_down(self, client, world):
        client.force_login(world.users.county_a)
        response = client.get(reverse("households:list"), {"region": world.town_a.prefix})
        assert listed_heads(response) == ["王建国"]

    def test_each_row_shows_its_member_count(self, client, world):
        f.household(world.village_a, "四口之家", members=4)
        client.force_login(world.users.town_a)
        sizes = {h.head_name: h.size for h in client.get(reverse("households:list")).context["page"]}
        assert sizes["四口之家"] == 4
        assert sizes["王建国"] == world.household_a.members.count()

    def test_ids_and_phones_are_masked(self, client, world):
        client.force_login(world.users.town_a)
        body = client.get(reverse("households:list")).content.decode()
        number = world.household_a.head_id_number
        assert number not in body
        assert f"{number[:4]}**********{number[-4:]}" in body

    def test_pages_of_fifty(self, client, world):
        for index in range(55):
            f.household(world.village_a, f"户主{index:02d}", members=1)
        client.force_login(world.users.town_a)
        first = client.get(reverse("households:list"))
        assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 56
        second = client.get(reverse("households:list"), {"page": 2})
        assert len(second.context["page"]) == 6

    def test_query_count_does_not_grow_with_rows(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("households:list")
        few = count_queries(client, url)
        for index in range(30):
            f.household(world.village_a, f"户主{index:02d}", members=3)
        assert count_queries(client, url) == few


class TestHouseholdDetailAndEdit:
    def test_detail_shows_members_and_cadres_past_and_present(self, client, world):
        from pairing.services import end_relation

        pairing = world.household_a.pairings.get()
        end_relation(relation=pairing, ended_on=pairing.started_on, reason="调动")
        successor = f.cadre(world.unit_a, "周新来")
        f.pairing(successor, world.household_a, started_on=pairing.started_on)
        client.force_login(world.users.town_a)
        response = client.get(reverse("households:detail", args=[world.household_a.pk]))
        assert [p.cadre.name for p in response.context["current_pairings"]] == ["周新来"]
        assert [p.cadre.name for p in response.context["past_pairings"]] == ["李文华"]
        assert len(response.context["members"]) == 3
        assert (
            world.household_a.head_id_number not in response.content.decode()
        )  # masked: 显示完整 reveals it

    def _edit_data(self, household, **changes):
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

    def test_township_staff_edits_a_household(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        data = self._edit_data(
            household, group="3社", other_causes=["缺技术", "缺资金"], phone="１３９ ０９３１ ２２２２"
        )
        response = client.post(reverse("households:edit", args=[household.pk]), data)
        assert response.status_code == 302
        household.refresh_from_db()
        assert household.group == "3社"
        assert household.other_causes == ["缺技术", "缺资金"]
        assert household.phone == "13909312222"

    def test_stale_form_is_refused(self, client, world):
        household = world.household_a
        data = self._edit_data(household, group="3社")
        Household.objects.filter(pk=household.pk).update(group="5社")  # someone else saved meanwhile
        household.refresh_from_db()
        household.save()  # bumps updated_at
        client.force_login(world.users.town_a)
        response = client.post(reverse("households:edit", args=[household.pk]), data)
        assert response.status_code == 200
        assert "已被他人修改" in response.content.decode()
        household.refresh_from_db()
        assert household.group == "5社"

    def test_cannot_move_a_household_to_a_village_outside_scope(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        data = self._edit_data(household, village=world.village_b.code)
        response = client.post(reverse("households:edit", args=[household.pk]), data)
        assert response.status_code == 200
        assert response.context["form"].errors["village"]
        household.refresh_from_db()
        assert household.village_id == world.village_a.code


class TestRegionDrillDown:
    def test_counts_match_an_independent_count(self, client, world):
        f.household(world.village_a, "陈有才", category=Category.ORDINARY)
        client.force_login(world.users.county_a)
        response = client.get(reverse("households:region", args=[world.county_a.code]))
        rows = {row["region"].code: row for row in response.context["rows"]}
        for township in (world.town_a, world.town_a2):
            households = [h for h in Household.objects.all() if h.village_id.startswith(township.prefix)]
            villages = Region.objects.filter(level="village", code__startswith=township.prefix)
            row = rows[township.code]
            assert row["households"] == len(households)
            assert row["poor"] == len([h for h in households if h.is_poor])
            assert (row["villages"], row["poor_villages"]) == (
                villages.count(),
                villages.filter(is_poor=True).count(),
            )
        assert rows[world.town_a.code]["households"] == 2

    def test_default_is_the_users_scope(self, client, world):
        client.force_login(world.users.town_a)
        response = client.get(reverse("households:regions"))
        assert response.context["region"] == world.town_a
        assert [row["region"] for row in response.context["rows"]] == [world.village_a]

    def test_query_count_is_fixed(self, client, world):
        client.force_login(world.users.county_a)
        url = reverse("households:region", args=[world.county_a.code])
        few = count_queries(client, url)
        for index in range(5):
            village = f.region(f"62112110{index + 3}201", f"新村{index}", "village")
            f.household(village, f"户主{index}")
        assert count_queries(client, url) == few


class TestCadres:
    def test_list_search_and_masked_phone(self, client, world):
        client.force_login(world.users.county_a)
        response = client.get(reverse("pairing:cadre_list"), {"q": "农业"})
        assert [c.name for c in response.context["page"]] == ["李文华"]
        body = response.content.decode()
        assert world.cadre_a.phone not in body
        assert f"{world.cadre_a.phone[:3]}****{world.cadre_a.phone[-4:]}" in body
        response = client.get(reverse("pairing:cadre_list"), {"q": world.cadre_a.phone[-4:]})
        assert [c.name for c in response.context["page"]] == ["李文华"]

    def test_list_counts_open_pairings(self, client, world):
        f.pairing(world.cadre_a, world.household_a2, role="联系户")
        client.force_login(world.users.county_a)
        cadre = client.get(reverse("pairing:cadre_list")).context["page"][0]
        assert (cadre.households, cadre.responsible) == (2, 1)

    def test_query_count_does_not_grow_with_rows(self, client, world):
        client.force_login(world.users.county_a)
        url = reverse("pairing:cadre_list")
        few = count_queries(client, url)
        for index in range(20):
            f.cadre(world.unit_a, f"干部{index}")
        assert Cadre.objects.count() > 20
        assert count_queries(client, url) == few

    def test_detail_lists_households(self, client, world):
        client.force_login(world.users.unit_a)
        response = client.get(reverse("pairing:cadre_detail", args=[world.cadre_a.pk]))
        assert [p.household.head_name for p in response.context["current_pairings"]] == ["王建国"]


@pytest.mark.parametrize(
    ("username", "households"), [("town_a", 1), ("county_a", 2), ("unit_b", 1), ("admin", 3)]
)
def test_home_counts_the_users_scope(client, world, username, households):
    client.force_login(getattr(world.users, username))
    response = client.get(reverse("home"))
    assert response.context["figures"]["households"] == households


def test_home_counts_the_poor_households_on_the_register_as_coverage_does(client, world):
    lifted = f.household(world.village_a, "已脱贫户", members=1)
    lifted.category, lifted.status = Category.GENERAL_POOR, "已脱贫"
    lifted.save(update_fields=["category", "status"])
    client.force_login(world.users.county_a)
    on_register = Household.objects.filter(
        village__code__startswith="621121",
        category__in=[Category.GENERAL_POOR, Category.DIBAO, Category.WUBAO, Category.DIBAO_POOR],
        status="在册",
    ).count()
    assert client.get(reverse("home")).context["figures"]["poor"] == on_register
    assert (
        client.get(reverse("home")).context["figures"]["households"] == 3
    )  # every household is still counted


def test_province_home_figures_are_cached_and_a_township_sees_them_live(client, world):
    client.force_login(world.users.province)
    first = client.get(reverse("home"))
    assert first.context["counted_at"] is not None and "立即重新统计" in first.content.decode()
    f.household(world.village_a, "新来户", members=1)
    assert (
        client.get(reverse("home")).context["figures"]["households"] == first.context["figures"]["households"]
    )
    recounted = client.get(reverse("home"), {"refresh": "1"})
    assert recounted.context["figures"]["households"] == first.context["figures"]["households"] + 1
    client.force_login(world.users.town_a)
    township = client.get(reverse("home"))
    assert township.context["counted_at"] is None
    assert township.context["figures"]["households"] == 2


@pytest.mark.parametrize("url_name", ["households:region", "pairing:coverage_region"])
def test_breadcrumbs_link_only_regions_the_user_may_open(client, world, url_name):
    """A township office sees 甘肃省 › 定西市 › 通渭县 above its township as names, not links that
    would 404."""
    client.force_login(world.users.town_a)
    page = client.get(reverse(url_name, args=[world.village_a.code])).content.decode()
    crumbs = page[page.index('<nav class="crumbs">') :].split("</nav>")[0]
    for region in (world.province, world.city_a, world.county_a):
        assert f"<span>{region.name}</span>" in crumbs and reverse(url_name, args=[region.code]) not in crumbs
    assert f'href="{reverse(url_name, args=[world.town_a.code])}"' in crumbs
    assert client.get(reverse(url_name, args=[world.town_a.code])).status_code == 200

    client.force_login(world.users.county_a)
    crumbs = (
        client.get(reverse(url_name, args=[world.village_a.code]))
        .content.decode()
        .split('<nav class="crumbs">')[1]
    )
    assert f'href="{reverse(url_name, args=[world.county_a.code])}"' in crumbs.split("</nav>")[0]
    assert reverse(url_name, args=[world.city_a.code]) not in crumbs.split("</nav>")[0]


def test_only_the_roster_offices_are_offered_the_export_with_whole_ids(client, world):
    export = reverse("imports:export_households")
    client.force_login(world.users.town_a)
    assert export in client.get(reverse("households:list")).content.decode()
    client.force_login(world.users.unit_a)
    assert export not in client.get(reverse("households:list")).content.decode()
    assert client.get(export).status_code == 403
