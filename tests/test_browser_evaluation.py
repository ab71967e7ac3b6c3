# ruff: noqa: F811 (the county fixture is shared with tests/test_evaluation.py by import)
"""Mass evaluation in the browser: a collector on a phone, and the county closing a round."""

import pytest

from evaluation import services
from evaluation.models import Ballot, Round, SampledHousehold
from tests.browser import DESKTOP, PHONE, log_in
from tests.test_evaluation import GOOD_ANSWERS, _assigned, _collector, _open, county  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_pending(page):
    """Open the first household still to collect on 我的采集任务."""
    page.locator("ul.cards li", has_text="待采集").first.get_by_role("link").click()
    page.wait_for_selector("form.ballot")


def test_a_collector_on_a_phone_enters_three_ballots_and_takes_a_substitute(chromium, live_server, county):
    round_ = _open(county, sample_method=Round.SampleMethod.PER_CADRE, sample_parameter=2, seed=3)
    collector = _collector(county, "vol")
    _assigned(county, round_, collector, cadre_unit=county.unit_c)
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "vol")
    page.goto(f"{live_server.url}/evaluation/collect/")
    for _ in range(3):
        _open_pending(page)
        page.get_by_label("入户", exact=True).check()
        page.locator("input[name=satisfaction][value='满意']").check()
        page.locator("input[name=visits][value='3–5次']").check()
        page.locator("input[name=violation][value='无']").check()
        with page.expect_navigation():
            page.get_by_role("button", name="提交评议票").click()
        assert "已保存" in page.inner_text(".flash")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _open_pending(page)
    away = page.locator("h1").inner_text().split("·")[-1].strip()
    page.get_by_label("外出").check()
    with page.expect_navigation():
        page.get_by_role("button", name="登记并抽取替补户").click()
    assert "已登记无法联系，替补农户" in page.inner_text(".flash")
    assert page.locator("ul.cards li", has_text="替补").count() == 1
    assert away in page.locator("ul.cards li", has_text="无法联系").inner_text()
    assert Ballot.objects.filter(round=round_, collector=collector).count() == 3
    gone = SampledHousehold.objects.get(round=round_, status="无法联系")
    assert gone.unreachable_reason == "外出" and gone.substitute.collector == collector
    context.close()


def test_the_county_closes_the_round_and_reads_a_cadres_explained_score(chromium, live_server, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    for sample in _assigned(county, round_, collector, cadre=county.cadre_a):
        services.record_ballot(by=collector.user, sample=sample, mode="入户", answers=GOOD_ANSWERS)
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "county_a")
    page.goto(f"{live_server.url}/evaluation/{round_.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="结束本轮评议").click()
    assert "本轮评议已结束" in page.inner_text(".flash")
    assert page.get_by_role("button", name="结束本轮评议").count() == 0
    with page.expect_navigation():
        page.get_by_role("link", name=county.cadre_a.name, exact=True).click()
    facts = page.inner_text("dl.facts")
    assert "综合得分 = 群众评议得分 × 60% + 过程指标得分 × 40%" in facts
    ballots = page.locator("table").nth(1).inner_text()
    assert "王**户" in ballots and county.household_a.head_name not in ballots
    assert Round.objects.get(pk=round_.pk).status == Round.Status.CLOSED
    context.close()
