"""A province office goes from its per-county worklist to one county's households."""

import datetime

import pytest

from tests.browser import DESKTOP, log_in
from visits.services import record_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_province_drills_from_the_county_figures_to_the_households(chromium, live_server, world):
    # Household A last visited in August: not visited in 90 days by the end of the year.
    record_visit(
        household=world.household_a,
        cadre=world.cadre_a,
        visited_on=datetime.date(2025, 8, 20),
        by=world.users.town_a,
    )
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "province")
    page.goto(f"{live_server.url}/visits/worklists/stale/?on=2025-12-31")
    row = page.locator("table.list tbody tr", has_text="通渭县")
    assert row.locator("td").nth(0).inner_text() == "定西市"
    assert "东乡族自治县" in page.locator("table.list").inner_text()  # household B, never visited
    row.get_by_role("link").click()
    page.wait_for_url("**region=621121000000**")
    assert "通渭县" in page.locator("p.muted").first.inner_text()
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1
    assert "王建国" in rows.first.inner_text() and "2025-08-20" in rows.first.inner_text()
    page.get_by_role("link", name="各县汇总").click()
    page.wait_for_selector("text=（按县区）")
    context.close()
