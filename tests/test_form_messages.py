"""Form pages name the field of every error (「标签：错误」), refuse negative amounts under the field,
and render labels without an ASCII colon."""

import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from demands.models import Demand
from imports.models import ImportBatch
from pairing.models import Pairing
from plans.models import HouseholdPlan, VillagePlan
from tests import factories as f
from tests.test_access_matrix import MATRIX
from visits.models import UnitVisit, Visit

REQUIRED = "这个字段是必填项。"
YEAR = 2025


def input_tag(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, name
    return found.group()


def errors_of(response) -> str:
    assert response.status_code == 200, "the form should be shown again, not saved"
    return response.content.decode()


def visit_entry(world, **overrides):
    data = {
        "household": world.household_a.pk,
        "cadre": "",
        "visited_on": "2025-05-12",
        "mode": "入户走访",
        "diary": "看了新建的羊圈",
        "help_cash": "0",
        "help_goods": "",
        "help_goods_value": "0",
        "help_project": "",
        "next_steps": "",
        "submission_key": str(uuid.uuid4()),
        "demands-TOTAL_FORMS": "2",
        "demands-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


class TestVisitEntry:
    @pytest.mark.parametrize(
        ("field", "label"), [("help_cash", "帮扶资金（元）"), ("help_goods_value", "物资折价（元）")]
    )
    def test_a_negative_amount_is_refused_under_its_field(self, client, world, field, label):
        client.force_login(world.users.town_a)
        page = errors_of(client.post(reverse("visits:new"), visit_entry(world, **{field: "-5"})))
        assert f'<p class="error">{label}：不能为负数</p>' in page
        assert "visit_help_not_negative" not in page and "约束" not in page
        assert not Visit.objects.exists()

    def test_amount_inputs_carry_min_zero(self, client, world):
        client.force_login(world.users.town_a)
        page = client.get(reverse("visits:new")).content.decode()
        for name in ("help_cash", "help_goods_value"):
            assert 'min="0"' in input_tag(page, name)

    def test_blank_required_fields_are_named(self, client, world):
        client.force_login(world.users.town_a)
        page = errors_of(client.post(reverse("visits:new"), visit_entry(world, household="", visited_on="")))
        assert f"农户：{REQUIRED}" in page and f"走访日期：{REQUIRED}" in page
        assert not Visit.objects.exists()

    def test_a_demand_row_message_that_names_its_field_is_not_doubled(self, client, world):
        client.force_login(world.users.town_a)
        data = visit_entry(world, **{"demands-0-category": "", "demands-0-text": "想修路"})
        page = errors_of(client.post(reverse("visits:new"), data))
        assert '<p class="error">请选择诉求类别</p>' in page and "诉求类别：请选择诉求类别" not in page
        assert not Visit.objects.exists() and not Demand.objects.exists()

    def test_the_constraint_speaks_chinese_to_other_writers(self, world):
        constraint = next(c for c in Visit._meta.constraints if c.name == "visit_help_not_negative")
        visit = Visit(household=world.household_a, cadre=world.cadre_a, help_cash=-1, help_goods_value=0)
        with pytest.raises(ValidationError) as caught:
            constraint.validate(Visit, visit)
        assert caught.value.messages == ["帮扶资金和物资折价都不能为负数"]


def test_unit_visit_blank_fields_are_named(client, world):
    client.force_login(world.users.unit_a)
    data = {"link": "", "visited_on": "2025-05-12", "cadres": [], "activities": ""}
    page = errors_of(client.post(reverse("visits:unit_visit_new"), data))
    for label in ("联系村", "参加干部", "工作内容"):
        assert f"{label}：{REQUIRED}" in page
    assert not UnitVisit.objects.exists()


class TestPlans:
    def test_household_plan_names_blank_target_and_negative_income(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("plans:household_edit", args=[world.household_a.pk])
        data = {
            "year": YEAR,
            "measures": [],
            "targets": "",
            "income_last_year": "-1",
            "income_this_year": "-0.5",
        }
        page = errors_of(client.post(url, data))
        assert f"帮扶目标：{REQUIRED}" in page
        assert "上年人均纯收入（元）：不能为负数" in page and "本年人均纯收入（元）：不能为负数" in page
        assert "确保该值" not in page
        # Already names its field: shown once, as written.
        assert '<p class="error">请至少选择一项帮扶措施</p>' in page and "帮扶措施：请至少" not in page
        assert 'min="0"' in input_tag(page, "income_last_year") and 'min="0"' in input_tag(
            page, "income_this_year"
        )
        assert not HouseholdPlan.objects.exists()

    def test_the_income_constraints_speak_chinese(self, world):
        plan = HouseholdPlan(household=world.household_a, year=YEAR, targets="养羊", income_this_year=-1)
        with pytest.raises(ValidationError) as caught:
            plan.validate_constraints()
        assert caught.value.messages == ["本年人均纯收入不能为负数"]

    def test_village_plan_names_blank_fields_and_keeps_line_messages_single(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("plans:village_edit", args=[world.village_a.code])
        data = {"year": YEAR, "development_path": "", "leading_industry": "", "projects": "只有名称"}
        page = errors_of(client.post(url, data))
        assert f"发展思路：{REQUIRED}" in page and f"主导产业：{REQUIRED}" in page
        assert '<p class="error">项目及资金第 1 行应为“项目名称，资金”</p>' in page
        assert not VillagePlan.objects.exists()


def test_household_edit_names_a_negative_income_and_keeps_the_household(client, world):
    household = world.household_a
    before = (household.income_per_head, household.phone)
    client.force_login(world.users.town_a)
    data = {
        "village": household.village_id,
        "group": household.group,
        "category": household.category,
        "main_cause": household.main_cause,
        "income_per_head": "-100",
        "housing": "",
        "phone": "电话",
        "status": household.status,
        "version": household.version,
    }
    page = errors_of(client.post(reverse("households:edit", args=[household.pk]), data))
    assert "人均纯收入（元）：不能为负数" in page
    assert '<p class="error">联系电话只能包含数字</p>' in page and "联系电话：联系电话" not in page
    household.refresh_from_db()
    assert (household.income_per_head, household.phone) == before


class TestPairing:
    def test_pairing_a_household_without_a_cadre_names_the_field(self, client, world):
        waiting = f.household(world.village_a, "待帮", members=1)
        client.force_login(world.users.town_a)
        data = {"cadre": "", "role": "帮扶责任人", "started_on": ""}
        page = errors_of(client.post(reverse("pairing:pair_household", args=[waiting.pk]), data))
        assert f"干部：{REQUIRED}" in page and f"开始日期：{REQUIRED}" in page
        assert not Pairing.objects.filter(household=waiting).exists()

    def test_pairing_from_a_cadre_without_households_names_the_field(self, client, world):
        client.force_login(world.users.town_a)
        data = {"cadre": world.cadre_a.pk, "role": "帮扶责任人", "started_on": "2025-07-01"}
        before = Pairing.objects.count()
        page = errors_of(client.post(reverse("pairing:pair_cadre", args=[world.cadre_a.pk]), data))
        assert f"农户：{REQUIRED}" in page
        assert Pairing.objects.count() == before


def test_an_upload_without_a_file_names_the_field(client, world):
    client.force_login(world.users.town_a)
    page = errors_of(client.post(reverse("imports:list"), {"kind": "households"}))
    assert f"花名册文件（.xlsx、.xls 或 .csv）：{REQUIRED}" in page
    empty = SimpleUploadedFile("空.csv", b"")
    page = errors_of(client.post(reverse("imports:list"), {"kind": "households", "file": empty}))
    assert "花名册文件（.xlsx、.xls 或 .csv）：所提交的是空文件。" in page  # Django's own check, now named
    assert not ImportBatch.objects.exists()


def _get_pages(world):
    """Every page of the app a GET opens (the access matrix's list), plus forms shown only on demand."""
    for name, case in MATRIX.items():
        if case.method == "get":
            yield reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
    yield reverse("pairing:bulk_pair") + f"?village={world.village_a.code}"
    yield reverse("plans:household_edit", args=[world.household_a.pk]) + f"?year={YEAR}"
    yield reverse("plans:village_edit", args=[world.village_a.code]) + f"?year={YEAR}"


def test_no_label_ends_with_an_ascii_colon(client, world):
    client.force_login(world.users.admin)
    checked = []
    for url in _get_pages(world):
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = response.content.decode()
        assert ":</label>" not in page, url
        if "<label" in page:
            checked.append(url)
    # The walk reached the form pages, not only lists.
    assert {
        reverse("visits:new"),
        reverse("visits:unit_visit_new"),
        reverse("imports:list"),
        reverse("households:edit", args=[world.household_a.pk]),
    } <= set(checked)


def test_a_bad_post_renders_no_ascii_colon_either(client, world):
    client.force_login(world.users.town_a)
    page = errors_of(client.post(reverse("visits:new"), visit_entry(world, household="")))
    assert ":</label>" not in page and "<label" in page
    assert not Visit.objects.exists()
