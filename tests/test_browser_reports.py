"""A township submits its monthly report, the county returns it with a comment, the township corrects
and resubmits, the county approves; a visit in that month is then refused. The print view in print media."""

import datetime

import pytest

from reports.models import MonthlyReport
from reports.selectors import last_month
from tests.browser import DESKTOP, log_in
from visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _status(page, label):
    page.wait_for_function(
        "label => document.getElementById('report-status')?.textContent === label", arg=label
    )


def test_a_report_goes_up_comes_back_goes_up_again_and_locks_the_month(chromium, live_server, world):
    month = last_month(datetime.date.today())
    url = f"{live_server.url}/reports/monthly/{world.town_a.code}/{month.year}/{month.month}/"
    town = chromium.new_context(viewport=DESKTOP).new_page()
    county = chromium.new_context(viewport=DESKTOP).new_page()
    log_in(town, live_server, "town_a")
    log_in(county, live_server, "county_a")

    town.goto(url)
    town.fill("#id_work_done", "组织干部入户走访")
    town.click("#report-text button[type=submit]")
    town.wait_for_selector("text=已保存")
    town.click("#submit-form button[type=submit]")
    _status(town, "已报送")

    county.goto(url)
    county.fill("#id_return_text", "请补充外出务工户的联系情况")
    county.click("#return-form button[type=submit]")
    _status(county, "已退回")

    town.goto(url)
    assert "请补充外出务工户的联系情况" in town.inner_text("#returned-comment")
    town.fill("#id_problems", "外出务工户 3 户已电话联系")
    town.click("#report-text button[type=submit]")
    town.wait_for_selector("text=已保存")
    town.click("#submit-form button[type=submit]")
    _status(town, "已报送")

    county.goto(url)
    county.click("#approve-form button[type=submit]")
    _status(county, "已审核")
    report = MonthlyReport.objects.get()
    assert report.problems == "外出务工户 3 户已电话联系" and report.status == "approved"

    # A visit dated in the approved month is refused, with the report named.
    town.goto(f"{live_server.url}/visits/new/?household={world.household_a.pk}&cadre={world.cadre_a.pk}")
    town.fill("#id_visited_on", month.replace(day=10).isoformat())
    town.fill("#id_diary", "补录走访")
    town.click("form.visit-form button[type=submit]:not([name])")
    town.wait_for_selector(".errorlist")
    refusal = town.inner_text("form.visit-form")
    assert f"马营镇{month.year}年{month.month}月月报告已审核通过" in refusal
    assert not Visit.objects.exists()

    # The print view: A4 print media, no menu, the people who reported and approved.
    county.emulate_media(media="print")
    county.goto(url + "print/")
    sign = county.inner_text(".print-sign")
    assert f"填报人：{world.users.town_a.acting_as}" in sign
    assert f"审核人：{world.users.county_a.acting_as}" in sign
    assert not county.locator("text=返回报告").is_visible()
    assert county.locator("table.report-figures thead").is_visible()
