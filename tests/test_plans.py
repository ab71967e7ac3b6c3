"""Village and household plans: saving with versions, refusals, pages, scope and handovers."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from households.choices import PovertyCause
from plans import services
from plans.models import HouseholdPlan, HouseholdPlanVersion, VillagePlan
from tests import factories as f
from tests.queries import count_queries

YEAR = 2025


def household_data(**changes):
    data = {
        "causes": ["缺技术"],
        "measures": ["产业", "务工"],
        "targets": "养羊二十只",
        "outcome": "",
        "income_last_year": Decimal("2500.00"),
        "income_this_year": None,
    }
    data.update(changes)
    return data


def village_data(**changes):
    data = {
        "development_path": "草畜为主，劳务为辅",
        "leading_industry": "肉羊养殖",
        "projects": [{"name": "梯田改造", "funds": "200000.00"}],
    }
    data.update(changes)
    return data


class TestVersions:
    def test_every_change_is_a_version_with_who_and_what(self, world):
        town, county = world.users.town_a, world.users.admin
        plan, first = services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=town
        )
        assert (plan.version, first.number, first.changed_by) == (1, 1, town)
        plan, second = services.save_household_plan(
            household=world.household_a,
            year=YEAR,
            by=county,
            expected_version=1,
            data=household_data(outcome="已养羊二十三只", income_this_year=Decimal("3600")),
        )
        assert (plan.version, second.number, second.changed_by) == (2, 2, county)
        assert second.changed_fields == ["outcome", "income_this_year"]
        assert second.changed_labels == ["帮扶成效", "本年人均纯收入（元）"]
        assert first.data["outcome"] == "" and second.data["income_this_year"] == "3600.00"
        assert plan.income_change == Decimal("1100")

    def test_saving_without_changes_adds_no_version(self, world):
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        plan, version = services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        assert version is None and plan.version == 1
        assert HouseholdPlanVersion.objects.count() == 1

    def test_the_same_boxes_ticked_in_another_order_are_no_change(self, world):
        """Causes recorded as 缺劳力、缺水 and sent back by the form in page order (缺水、缺劳力) are
        the same causes."""
        causes = ["自身发展动力不足", "缺劳力", "缺水"]
        in_page_order = sorted(causes, key=PovertyCause.values.index)
        assert in_page_order != causes
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(causes=causes), by=world.users.town_a
        )
        plan, version = services.save_household_plan(
            household=world.household_a,
            year=YEAR,
            by=world.users.town_a,
            expected_version=1,
            data=household_data(causes=in_page_order, targets="新目标"),
        )
        assert version.changed_fields == ["targets"]
        assert version.data["causes"] == in_page_order
        plan, version = services.save_household_plan(
            household=world.household_a,
            year=YEAR,
            by=world.users.town_a,
            data=household_data(causes=list(reversed(causes)), targets="新目标"),
        )
        assert version is None and plan.version == 2

    def test_a_stale_edit_is_refused_and_changes_nothing(self, world):
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        services.save_household_plan(
            household=world.household_a,
            year=YEAR,
            data=household_data(targets="新目标"),
            by=world.users.town_a,
            expected_version=1,
        )
        with pytest.raises(ValidationError, match="已被他人修改"):
            services.save_household_plan(
                household=world.household_a,
                year=YEAR,
                data=household_data(targets="旧页面"),
                by=world.users.town_a,
                expected_version=1,
            )
        assert HouseholdPlan.objects.get().targets == "新目标"

    def test_one_plan_per_household_and_year(self, world):
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        services.save_household_plan(
            household=world.household_a, year=YEAR + 1, data=household_data(), by=world.users.town_a
        )
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(targets="改"), by=world.users.town_a
        )
        assert sorted(HouseholdPlan.objects.values_list("year", "version")) == [(YEAR, 2), (YEAR + 1, 1)]


class TestVillagePlans:
    def test_only_for_linked_poor_villages(self, world):
        unlinked = world.village_a2  # poor, but no unit links it
        with pytest.raises(ValidationError, match="尚无联村单位"):
            services.save_village_plan(village=unlinked, year=YEAR, data=village_data(), by=world.users.admin)
        ordinary = f.region("621121101202", "西关村民委员会", "village")
        f.link(world.unit_a, ordinary)
        with pytest.raises(ValidationError, match="不是贫困村"):
            services.save_village_plan(village=ordinary, year=YEAR, data=village_data(), by=world.users.admin)
        assert not VillagePlan.objects.exists()

    def test_edit_page_parses_projects_and_names_bad_lines(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("plans:village_edit", args=[world.village_a.code])
        data = {
            "year": YEAR,
            "development_path": "草畜为主",
            "leading_industry": "肉羊养殖",
            "version": 0,
            "projects": "梯田改造，200000\n饮水工程, 八万\n\n道路|-5\n只有名称",
        }
        response = client.post(url, data)
        assert response.status_code == 200
        errors = response.context["form"].errors["projects"]
        assert errors == [
            "项目及资金第 2 行的资金“八万”不是数字",
            "项目及资金第 4 行的资金应为不小于0、最多两位小数的金额",
            "项目及资金第 5 行应为“项目名称，资金”",
        ]
        assert not VillagePlan.objects.exists()

        data["projects"] = "梯田改造，200000\n饮水工程, 80000.5"
        assert client.post(url, data).status_code == 302
        plan = VillagePlan.objects.get()
        assert plan.projects == [
            {"name": "梯田改造", "funds": "200000.00"},
            {"name": "饮水工程", "funds": "80000.50"},
        ]
        assert plan.total_funds == Decimal("280000.50")
        page = client.get(
            reverse("plans:village", args=[world.village_a.code]), {"year": YEAR}
        ).content.decode()
        assert "肉羊养殖" in page and "280000.50" in page and "第 1 版" in page

    def test_region_page_links_the_village_plan(self, client, world):
        client.force_login(world.users.town_a)
        body = client.get(reverse("households:region", args=[world.village_a.code])).content.decode()
        assert reverse("plans:village", args=[world.village_a.code]) in body


class TestHouseholdPlanPages:
    def test_edit_shows_on_household_page_with_history(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("plans:household_edit", args=[world.household_a.pk])
        form = client.get(url, {"year": YEAR}).context["form"]
        assert form.initial["income_last_year"] == world.household_a.income_per_head
        response = client.post(url, {"year": YEAR, "measures": [], "targets": ""})
        assert "请至少选择一项帮扶措施" in response.content.decode()
        data = {
            "year": YEAR,
            "causes": ["缺技术"],
            "measures": ["产业", "危房改造"],
            "targets": "养羊二十只",
            "income_last_year": "2500",
            "income_this_year": "3100",
            "version": "0",
        }
        assert client.post(url, data).status_code == 302
        data.update(version="1", outcome="养羊二十三只，危房已改造")
        assert client.post(url, data).status_code == 302

        detail = client.get(reverse("households:detail", args=[world.household_a.pk])).content.decode()
        assert "产业扶持、危房改造" in detail and "增加 600.00 元" in detail and "第 2 版" in detail
        history = client.get(reverse("plans:household", args=[world.household_a.pk]), {"year": YEAR})
        versions = list(history.context["versions"])
        assert [(v.number, v.changed_by.username, v.changed_labels) for v in versions] == [
            (2, "town_a", ["帮扶成效"]),
            (
                1,
                "town_a",
                ["致贫原因", "帮扶措施", "帮扶目标", "上年人均纯收入（元）", "本年人均纯收入（元）"],
            ),
        ]

    def test_an_income_not_entered_reads_未填_not_a_dash_in_yuan(self, client, world):
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        client.force_login(world.users.town_a)
        page = client.get(reverse("plans:list"), {"year": YEAR}).content.decode()
        assert "上年 2500.00 元 → 本年 未填" in page and "— 元" not in page

    def test_outsider_cannot_post_a_plan(self, client, world):
        client.force_login(world.users.town_b)
        url = reverse("plans:household_edit", args=[world.household_a.pk])
        response = client.post(url, {"year": YEAR, "measures": ["产业"], "targets": "x"})
        assert response.status_code == 404
        assert not HouseholdPlan.objects.exists()

    def test_plan_follows_the_household_through_a_handover(self, client, world):
        from pairing import services as pairing_services

        plan, _ = services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        successor = f.cadre(world.unit_a, "周新来")
        handover = pairing_services.start_handover(
            cadre=world.cadre_a,
            new_status="调离",
            effective_on=datetime.date(2025, 9, 1),
            by=world.users.town_a,
        )
        handover.lines.update(successor=successor, unplaced_reason="")
        pairing_services.apply_handover(handover=handover, by=world.users.county_a)
        assert world.household_a.pairings.open().get().cadre == successor

        assert HouseholdPlan.objects.get(household=world.household_a) == plan
        client.force_login(world.users.town_a)
        detail = client.get(reverse("households:detail", args=[world.household_a.pk])).content.decode()
        assert "养羊二十只" in detail


class TestPlanList:
    def test_scope(self, client, world):
        for household in (world.household_a, world.household_a2, world.household_b):
            services.save_household_plan(
                household=household, year=YEAR, data=household_data(), by=world.users.admin
            )
        expectations = {
            "town_a": {world.household_a.pk},
            "county_a": {world.household_a.pk, world.household_a2.pk},
            "unit_a": {world.household_a.pk},
            "town_b": {world.household_b.pk},
        }
        for username, expected in expectations.items():
            client.force_login(getattr(world.users, username))
            page = client.get(reverse("plans:list"), {"year": YEAR}).context["page"]
            assert {plan.household_id for plan in page} == expected, username

    def test_village_plans_in_scope(self, client, world):
        services.save_village_plan(
            village=world.village_a, year=YEAR, data=village_data(), by=world.users.admin
        )
        f.link(world.unit_b, world.village_a2)
        services.save_village_plan(
            village=world.village_a2, year=YEAR, data=village_data(), by=world.users.admin
        )
        for username, expected in {
            "town_a": [world.village_a.code],
            "unit_b": [world.village_a2.code],
            "town_b": [],
            "county_a": [world.village_a.code, world.village_a2.code],
        }.items():
            client.force_login(getattr(world.users, username))
            page = client.get(reverse("plans:list"), {"year": YEAR, "kind": "village"}).context["page"]
            assert [plan.village_id for plan in page] == expected, username

    @pytest.mark.parametrize("kind", ["household", "village"])
    def test_query_count_does_not_grow_with_rows(self, client, world, kind):
        client.force_login(world.users.county_a)
        url = f"{reverse('plans:list')}?year={YEAR}&kind={kind}"
        services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        services.save_village_plan(
            village=world.village_a, year=YEAR, data=village_data(), by=world.users.town_a
        )
        few = count_queries(client, url)
        for index in range(8):
            village = f.region(f"6211211012{index + 10}", f"新村{index}", "village")
            village.is_poor = True
            village.save()
            f.link(world.unit_a, village)
            services.save_village_plan(
                village=village, year=YEAR, data=village_data(), by=world.users.county_a
            )
            household = f.household(village, f"户主{index}")
            services.save_household_plan(
                household=household, year=YEAR, data=household_data(), by=world.users.county_a
            )
        assert count_queries(client, url) == few
