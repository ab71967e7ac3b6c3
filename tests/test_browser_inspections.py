"""At phone width: an inspector records three call-backs; the county confirms a flag into a finding
and the township answers it."""

import datetime

import pytest

from inspections import services
from inspections.models import Flag, FlagVisit, Rectification, SampledVisit
from tests.browser import PHONE, log_in
from visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DAY = datetime.date(2025, 5, 6)


def _visits(world, days):
    return [
        Visit.objects.create(
            household=world.household_a,
            cadre=world.cadre_a,
            visited_on=DAY + datetime.timedelta(days=offset),
            mode=Visit.Mode.HOME,
            diary=f"第{offset + 1}次入户",
            recorded_by=world.users.town_a,
        )
        for offset in range(days)
    ]


def test_an_inspector_records_three_call_backs(chromium, live_server, world):
    _visits(world, 3)
    inspection = services.create_inspection(
        by=world.users.county_a,
        name="五月督查",
        starts_on=DAY,
        ends_on=DAY,
        checks="电话回访",
        townships=[world.town_a],
        team=[world.users.county_a],
        visits_from=DAY,
        visits_to=DAY + datetime.timedelta(days=5),
        per_cadre=3,
        seed=5,
    )
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "county_a")
    page.goto(f"{live_server.url}/inspections/{inspection.pk}/checks/")
    page.locator("ul.cards a").first.click()
    for result in ("属实", "属实", "不符"):
        page.wait_for_selector("form.ballot")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.check("input[name=method][value=电话回访]")
        page.check(f"input[name=result][value={result}]")
        if result == "不符":
            page.fill("#note", "农户说当天没有干部来过")
        with page.expect_navigation():
            page.click("form.ballot button[type=submit]")
    page.wait_for_selector("#done")
    assert page.inner_text("#done") == "3"
    results = sorted(SampledVisit.objects.values_list("result", flat=True))
    assert results == ["不符", "属实", "属实"]
    assert SampledVisit.objects.get(result="不符").note == "农户说当天没有干部来过"
    context.close()


def test_the_county_confirms_a_flag_and_the_township_answers(chromium, live_server, world):
    (visit,) = _visits(world, 1)
    flag = Flag.objects.create(
        kind=Flag.Kind.AWAY,
        key=f"away:{visit.pk}",
        village=world.village_a,
        reason="外出务工期间记录入户走访",
    )
    FlagVisit.objects.create(flag=flag, visit=visit)
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "county_a")
    page.goto(f"{live_server.url}/flags/")
    page.click("table a:has-text(\"外出务工户入户走访\")")
    page.fill("#note", "核实走访真实性并约谈干部")
    with page.expect_navigation():
        page.click("button[value=confirm]")
    page.wait_for_selector("text=已确认为问题")
    assert Flag.objects.get().status == Flag.Status.CONFIRMED
    item = Rectification.objects.get()
    context.close()

    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/rectifications/")
    page.click("text=核实走访真实性并约谈干部")
    page.fill("#answer", "已约谈干部，该户春节期间在家，记录属实")
    page.fill("#evidence", "约谈记录一份")
    with page.expect_navigation():
        page.click("button[value=answer]")
    page.wait_for_selector("text=已提交整改情况")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.inner_text("#status") == "已答复"
    item.refresh_from_db()
    assert item.status == Rectification.Status.ANSWERED and item.answered_by == world.users.town_a
    context.close()
