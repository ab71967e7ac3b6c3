"""Back-dating (issue 11, item 10): nothing is dated before SHUANGLIAN_DATE_FLOOR (2012-01-01) or after today.

The issue's attack: a pairing from 2001, a visit dated 2001-06-01 and a demand raised on 1900-01-01
were all accepted. Each service refuses such a date with a message naming the field, and the pages'
forms show the same refusal under the field.
"""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from demands.models import Demand
from demands.services import raise_demand
from imports.links import import_links
from imports.pairings import import_pairings
from pairing import services as pairing_services
from pairing.models import Handover, Pairing, Proposal, VillageLink
from plans import services as plan_services
from tests import factories as f
from tests.test_import_relations import LINK_HEADERS, PAIRING_HEADERS, workbook
from visits.models import UnitVisit, Visit
from visits.services import record_unit_visit, record_visit

OLD = datetime.date(2001, 6, 1)


def tomorrow():  # read per test: a run may cross midnight (Asia/Shanghai)
    return timezone.localdate() + datetime.timedelta(days=1)


FLOOR_TEXT = "不能早于 2012年1月1日"


def refused(call, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value


def text(error: ValidationError) -> str:
    return " ".join(error.messages)


@pytest.fixture
def back_dated(world):
    """The issue's state: a pairing and a village link that reach back to 2000 (written before the fix)."""
    Pairing.objects.filter(household=world.household_a).update(started_on=datetime.date(2000, 1, 1))
    VillageLink.objects.filter(unit=world.unit_a, village=world.village_a).update(
        started_on=datetime.date(2000, 1, 1)
    )
    return world


def test_a_visit_before_the_floor_is_refused(back_dated):
    w = back_dated
    error = refused(
        record_visit,
        household=w.household_a,
        cadre=w.cadre_a,
        visited_on=OLD,
        by=w.users.town_a,
        mode=Visit.Mode.HOME,
        diary="补录",
    )
    assert error.code == "before_floor" and "走访日期 不能早于 2012年1月1日" in text(error)
    assert not Visit.objects.exists()


def test_a_unit_visit_before_the_floor_is_refused(back_dated):
    w = back_dated
    error = refused(
        record_unit_visit,
        unit=w.unit_a,
        village=w.village_a,
        visited_on=OLD,
        cadres=[w.cadre_a],
        activities="召开村民代表会",
        by=w.users.unit_a,
    )
    assert "走访日期 不能早于 2012年1月1日" in text(error)
    assert not UnitVisit.objects.exists()


def test_the_floor_is_a_setting(back_dated, settings):
    settings.SHUANGLIAN_DATE_FLOOR = datetime.date(2025, 1, 1)
    w = back_dated
    error = refused(
        record_visit,
        household=w.household_a,
        cadre=w.cadre_a,
        visited_on=datetime.date(2024, 12, 31),
        by=w.users.town_a,
        mode=Visit.Mode.HOME,
        diary="补录",
    )
    assert "走访日期 不能早于 2025年1月1日" in text(error)
    assert record_visit(
        household=w.household_a,
        cadre=w.cadre_a,
        visited_on=datetime.date(2025, 1, 1),
        by=w.users.town_a,
        mode=Visit.Mode.HOME,
        diary="补录",
    ).pk


def test_a_demand_raised_in_1900_or_tomorrow_is_refused(world):
    for day, message in [
        (datetime.date(1900, 1, 1), "提出日期 不能早于 2012年1月1日"),
        (tomorrow(), "晚于今天"),
    ]:
        error = refused(
            raise_demand,
            household=world.household_a,
            category="住房",
            text="危房改造",
            by=world.users.town_a,
            raised_on=day,
        )
        assert message in " ".join(error.message_dict["raised_on"])
    assert not Demand.objects.exists()


def test_pairings_links_proposals_and_handovers_keep_to_the_campaign(world):
    w = world
    fresh = f.household(w.village_a, "孙有才", members=1)
    for day, message in [(OLD, "开始日期 " + FLOOR_TEXT), (tomorrow(), "开始日期 不能晚于今天")]:
        assert message in text(
            refused(pairing_services.pair, cadre=w.cadre_a, household=fresh, started_on=day)
        )
        assert message in text(
            refused(pairing_services.pair_many, cadre=w.cadre_a, households=[fresh], started_on=day)
        )
        assert message in text(
            refused(pairing_services.link_village, unit=w.unit_a, village=w.village_a2, started_on=day)
        )
    assert "结对日期 " + FLOOR_TEXT in text(
        refused(pairing_services.create_proposal, region=w.town_a, started_on=OLD, by=w.users.town_a)
    )
    assert "交接日期 " + FLOOR_TEXT in text(
        refused(
            pairing_services.start_handover,
            cadre=w.cadre_a,
            new_status="调离",
            effective_on=OLD,
            by=w.users.town_a,
        )
    )
    pairing = Pairing.objects.get(household=w.household_a)
    assert "结束日期 不能晚于今天" in text(
        refused(pairing_services.end_relation, relation=pairing, ended_on=tomorrow(), reason="调动")
    )
    assert not fresh.pairings.exists() and not Proposal.objects.exists() and not Handover.objects.exists()
    assert not VillageLink.objects.filter(village=w.village_a2).exists()
    pairing.refresh_from_db()
    assert pairing.ended_on is None


def test_plan_years_keep_to_the_campaign(world):
    data = {
        "causes": ["缺技术"],
        "measures": ["产业"],
        "targets": "养羊",
        "outcome": "",
        "income_last_year": None,
        "income_this_year": None,
    }
    error = refused(
        plan_services.save_household_plan,
        household=world.household_a,
        year=2001,
        data=data,
        by=world.users.town_a,
    )
    assert "计划年度 须在 2012 至" in text(error)


def test_imported_pairing_and_link_dates_keep_to_the_campaign(world):
    fresh = f.household(world.village_a, "孙有才", members=1)
    rows = [["通渭县农业农村局", "李文华", fresh.head_id_number, "孙有才", "帮扶责任人", "2001-01-01"]]
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=world.users.town_a)
    texts = [str(e) for e in result.errors]
    assert any("第3行“开始日期”列（2001-01-01）" in t and FLOOR_TEXT in t for t in texts), texts
    rows = [["东乡县财政局", "通渭县", "鸡川镇", "鸡川村民委员会", tomorrow().isoformat()]]
    result = import_links(workbook(LINK_HEADERS, rows), user=world.users.county_a)
    assert any("“开始日期”列" in str(e) and "不能晚于今天" in str(e) for e in result.errors), result.errors
    assert not fresh.pairings.exists() and not VillageLink.objects.filter(village=world.village_a2).exists()


# --- the pages' forms show the refusal under the field ---------------------------------------------


def test_the_visit_form_names_the_field(client, back_dated):
    client.force_login(back_dated.users.town_a)
    data = {
        "household": back_dated.household_a.pk,
        "cadre": "",
        "visited_on": "2001-06-01",
        "mode": "入户走访",
        "task_policy": "on",
        "diary": "补录",
        "help_cash": "0",
        "help_goods": "",
        "help_goods_value": "0",
        "help_project": "",
        "next_steps": "",
        "submission_key": str(uuid.uuid4()),
    }
    response = client.post(reverse("visits:new"), data)
    assert response.status_code == 200
    assert "走访日期：" + FLOOR_TEXT in response.content.decode()
    assert not Visit.objects.exists()


def test_the_raise_demand_form_names_the_field(client, world):
    client.force_login(world.users.town_a)
    data = {
        "category": "医疗",
        "text": "老人需要慢病卡",
        "raised_on": "1900-01-01",
        "submission_key": str(uuid.uuid4()),
    }
    response = client.post(reverse("demands:raise", args=[world.household_a.pk]), data)
    assert "提出日期：" + FLOOR_TEXT in response.content.decode()
    assert not Demand.objects.exists()


def test_the_pair_form_names_the_field(client, world):
    fresh = f.household(world.village_a, "孙有才", members=1)
    client.force_login(world.users.town_a)
    response = client.post(
        reverse("pairing:pair_household", args=[fresh.pk]),
        {"cadre": world.cadre_a.pk, "role": "帮扶责任人", "started_on": "2001-01-01"},
    )
    assert "开始日期：" + FLOOR_TEXT in response.content.decode()
    assert not fresh.pairings.exists()


def test_a_malformed_floor_setting_stops_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from shuanglian.settings import envdate

    monkeypatch.setenv("SHUANGLIAN_DATE_FLOOR", "2012-13-01")
    with pytest.raises(ImproperlyConfigured, match="SHUANGLIAN_DATE_FLOOR"):
        envdate("SHUANGLIAN_DATE_FLOOR", "2012-01-01")
    monkeypatch.setenv("SHUANGLIAN_DATE_FLOOR", "2015-06-01")
    assert envdate("SHUANGLIAN_DATE_FLOOR", "2012-01-01") == datetime.date(2015, 6, 1)
