"""A township clerk writes a household plan at phone width and finds it on the household page."""

import pytest

from plans.models import HouseholdPlan
from tests.browser import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_household_plan_at_phone_width(chromium, live_server, world, tmp_path):
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/households/{world.household_a.pk}/")
    page.click("text=制定帮扶计划")
    page.check("input[name=measures][value=产业]")
    page.check("input[name=measures][value=危房改造]")
    page.fill("#id_targets", "养羊二十只")
    page.fill("#id_income_this_year", "3100")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=已保存")
    page.click("h1 a")
    page.wait_for_url(f"**/households/{world.household_a.pk}/")
    # Nothing spills sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(tmp_path / "household.png"), full_page=True)
    body = page.inner_text("main")
    assert "产业扶持、危房改造" in body and "养羊二十只" in body
    assert HouseholdPlan.objects.get().updated_by == world.users.town_a
    context.close()
