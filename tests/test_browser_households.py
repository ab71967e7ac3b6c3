"""A township officer finds a household in a real browser, on a desktop and on a phone."""

import pytest

from tests.browser import DESKTOP, PHONE, click_nav_link, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_township_staff_finds_and_opens_a_household(chromium, live_server, world, viewport, tmp_path):
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "town_a")
    assert "马营镇" in page.inner_text(".scope")

    click_nav_link(page, "农户名册")
    page.fill("input[name=q]", "王建国")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/households/?q=*")  # the filtered page, not the one being left
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1
    masked = rows.first.locator("td[data-label=身份证号码]").inner_text()
    assert masked.startswith("6211") and "**********" in masked
    assert world.household_a.head_id_number not in page.content()

    rows.first.locator("a", has_text="王建国").click()
    page.wait_for_url(f"**/households/{world.household_a.pk}/")
    assert page.locator("h1").inner_text().startswith("王建国户")
    assert "李文华" in page.inner_text("body")  # the current cadre
    # Three members, each with the sex derived from the ID.
    assert page.locator("h2:has-text('家庭成员') + .table-wrap tbody tr").count() == 3

    # Nothing spills sideways on a phone: the page is no wider than the screen.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"]
    page.screenshot(path=str(tmp_path / "household.png"), full_page=True)
    context.close()


def test_other_township_gets_not_found(chromium, live_server, world):
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_b")
    response = page.goto(f"{live_server.url}/households/{world.household_a.pk}/")
    assert response.status == 404
    assert "页面不存在" in page.inner_text("body")
    context.close()
