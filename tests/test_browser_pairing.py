"""Reviewing a proposal and handing over a cadre's households in a real browser."""

import pytest

from pairing.models import Cadre, Pairing, Proposal
from tests import factories as f
from tests.browser import DESKTOP, click_nav_link, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_township_proposes_county_reviews_and_applies(chromium, live_server, world):
    extra = f.cadre(world.unit_a, "周新来", rank=Cadre.Rank.SECTION)
    households = [f.household(world.village_a, f"待帮{i}", members=1) for i in range(3)]
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()

    log_in(page, live_server, "town_a")
    click_nav_link(page, "结对方案")
    page.select_option("select[name=region]", world.town_a.code)
    page.click("text=生成方案")
    page.wait_for_url("**/proposals/*/")
    assert page.locator("tbody tr").count() == 3
    # The township moves 待帮0 to 周新来 and removes 待帮2.
    page.select_option("select[aria-label=待帮0的干部]", str(extra.pk))
    page.check("input[aria-label=移除待帮2]")
    with page.expect_navigation():  # the saved page, not the one being left
        page.click("text=保存修改")
    assert "已保存" in page.inner_text(".flash")
    assert page.locator("text=审核通过并实施").count() == 0  # townships do not approve
    context.clear_cookies()

    log_in(page, live_server, "county_a")
    proposal = Proposal.objects.get()
    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    with page.expect_navigation():
        page.click("text=审核通过并实施")
    assert "方案已实施" in page.inner_text(".flash")
    assert Pairing.objects.open().get(household=households[0]).cadre == extra
    assert not Pairing.objects.filter(household=households[2]).exists()
    context.close()


def test_unit_liaison_hands_over_a_transferred_cadre(chromium, live_server, world):
    successor = f.cadre(world.unit_a, "接任者")
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "unit_a")
    page.goto(f"{live_server.url}/cadres/{world.cadre_a.pk}/")
    page.select_option("select[name=new_status]", "调离")
    page.fill("input[name=effective_on]", "2025-09-01")
    page.click("text=生成交接方案")
    page.wait_for_url("**/handovers/*/")
    handover_url = page.url
    assert page.locator("select[aria-label=王建国的接任干部]").input_value() == str(successor.pk)
    context.clear_cookies()

    log_in(page, live_server, "county_a")
    page.goto(handover_url)
    with page.expect_navigation():
        page.click("text=审核通过并实施交接")
    assert "交接已实施" in page.inner_text(".flash")
    world.cadre_a.refresh_from_db()
    assert world.cadre_a.status == Cadre.Status.TRANSFERRED
    ended = Pairing.objects.get(cadre=world.cadre_a)
    assert ended.end_reason == "调动" and str(ended.ended_on) == "2025-09-01"
    assert Pairing.objects.open().get(household=world.household_a).cadre == successor
    context.close()


def test_township_pairs_from_the_cadre_page_typing_to_filter(chromium, live_server, world):
    for index in range(6):
        f.household(world.village_a, f"待帮{index}", members=1)
    helper = f.cadre(world.unit_a, "周新来", rank=Cadre.Rank.SECTION)
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/cadres/{helper.pk}/")
    page.click("text=增加联系户")
    page.fill("input[aria-label=筛选农户]", "待帮3")
    visible = page.locator("#id_households label:visible")
    assert visible.count() == 1
    visible.first.click()
    with page.expect_navigation():
        page.click("button:has-text('保存')")
    assert "已安排 周新来 联系 1 户" in page.inner_text(".flash")
    assert Pairing.objects.open().get(cadre=helper).household.head_name == "待帮3"
    context.close()
