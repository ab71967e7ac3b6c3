"""A demand raised in the visit form, escalated by the township and resolved by the unit, all on the pages."""

import pytest
from django.utils import timezone

from demands.models import Demand
from tests.browser import DESKTOP, PHONE, log_in, wait_for_chooser_focus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def act(page, kind, text):
    """Take one step and wait for the page it lands on. Waiting for a `.flash` alone could find the
    previous step's message on the page being left, and the next step would fill that page."""
    form = page.locator("form", has=page.locator(f"button:text-is('{kind}')"))
    form.locator("textarea").fill(text)
    with page.expect_navigation():
        form.locator("button").click()


def test_a_demand_is_escalated_and_then_resolved_through_the_pages(chromium, live_server, world):
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/visits/new/")
    wait_for_chooser_focus(page)
    page.keyboard.type("王建国")
    page.keyboard.press(
        "Enter"
    )  # asks the server: wait for its answer to be chosen, as a busy machine is slow
    page.wait_for_function(
        "() => document.getElementById('id_household').selectedOptions[0].text.startsWith('王建国')"
    )
    page.locator("#id_diary").focus()
    page.keyboard.type("户主反映村道不通")
    page.locator("#id_demands-0-category").select_option("基础设施")
    page.locator("#id_demands-0-text").focus()
    page.keyboard.type("村道塌方，拖拉机过不去")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert "已保存" in page.inner_text(".flash")

    page.goto(f"{live_server.url}/demands/")
    page.click("text=村道塌方，拖拉机过不去")
    act(page, "上报", "需单位协调修路资金")
    assert "已上报" in page.inner_text(".flash")
    assert "帮扶单位" in page.inner_text(".facts")
    assert page.locator("form button:text-is('办结')").count() == 0  # no longer the township's to act on
    demand_url = page.url
    context.close()

    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "unit_a")
    page.goto(f"{live_server.url}/demands/?mine=on")
    page.click("text=村道塌方，拖拉机过不去")
    assert page.url == demand_url
    act(page, "受理", "")
    act(page, "办结", "已协调资金，村道修复通行")
    act(page, "反馈", "已告知户主")
    path = page.inner_text(".demand-path")
    for step in ("提出", "上报", "受理", "办结", "反馈", "需单位协调修路资金", "已协调资金，村道修复通行"):
        assert step in path
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()

    demand = Demand.objects.get()
    assert (demand.level, demand.status, demand.visit.diary) == ("单位", "已解决", "户主反映村道不通")
    assert list(demand.actions.values_list("kind", "by__username")) == [
        ("提出", "town_a"),
        ("上报", "town_a"),
        ("受理", "unit_a"),
        ("办结", "unit_a"),
        ("反馈", "unit_a"),
    ]


def test_a_unit_liaison_raises_a_demand_from_the_household_page(chromium, live_server, world):
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "unit_a")
    page.goto(f"{live_server.url}/households/{world.household_a.pk}/")
    form = page.locator("form.raise-demand")
    form.locator("select").select_option("住房")
    form.locator("textarea").fill("屋顶漏雨，需要维修")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith(f"/households/{world.household_a.pk}/#demands")
    assert "已登记" in page.inner_text(".flash")
    row = page.locator("table.household-demands tbody tr", has_text="屋顶漏雨，需要维修")
    assert "帮扶干部" in row.inner_text() and "待办" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
    demand = Demand.objects.get()
    assert (demand.raised_by.username, demand.raised_on, demand.level) == (
        "unit_a",
        timezone.localtime(demand.created_at).date(),
        "干部",
    )
