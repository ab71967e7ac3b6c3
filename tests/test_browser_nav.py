"""The grouped navigation: every link reachable at phone and desktop width, one line when closed,
no sideways scrolling, and opened by keyboard."""

import pytest
from django.urls import reverse

from tests.browser import DESKTOP, PHONE, log_in, nav_link, reveal_nav_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a superuser's menu holds: every link any role can see.
LINKS = {
    "首页": "home",
    "农户名册": "households:list",
    "区划": "households:regions",
    "干部": "pairing:cadre_list",
    "结对方案": "pairing:proposal_list",
    "覆盖情况": "pairing:coverage",
    "走访记录": "visits:list",
    "单位联村走访": "visits:unit_visit_list",
    "工作清单": "visits:worklists",
    "诉求台账": "demands:list",
    "帮扶计划": "plans:list",
    "群众评议": "evaluation:round_list",
    "报告": "reports:index",
    "督查": "inspections:inspection_list",
    "整改事项": "inspections:rectification_list",
    "疑点筛查": "inspections:flag_list",
    "公示名单": "inspections:notice_list",
    "典型经验": "inspections:case_list",
    "名册导入": "imports:list",
    "管理后台": "admin:index",
}

# The top bar's content height against its tallest child: equal when everything sits in one row.
ROWS_JS = """() => {
  const bar = document.querySelector('header.topbar');
  const style = getComputedStyle(bar);
  const inner = bar.getBoundingClientRect().height
    - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const tallest = Math.max(...[...bar.children].map(child => child.getBoundingClientRect().height));
  return {inner, tallest};
}"""


def open_page(chromium, live_server, viewport, username="admin"):
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, username)
    return context, page


def assert_one_row(page):
    rows = page.evaluate(ROWS_JS)
    assert rows["inner"] <= rows["tallest"] + 0.5, rows


def assert_no_sideways_scroll(page, viewport):
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_link_is_reachable_and_nothing_scrolls_sideways(chromium, live_server, world, viewport):
    context, page = open_page(chromium, live_server, viewport)
    hrefs = page.locator("nav.nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert sorted(hrefs) == sorted(reverse(name) for name in LINKS.values())
    assert_one_row(page)  # closed on a phone; the whole menu in one row on a desktop
    for text, name in LINKS.items():
        link = reveal_nav_link(page, text)
        assert link.is_visible(), text
        box = link.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], text
        assert_no_sideways_scroll(page, viewport)
        assert link.get_attribute("href") == reverse(name)
    click = reveal_nav_link(page, "诉求台账")
    click.click()
    page.wait_for_url(f"**{reverse('demands:list')}")
    assert_one_row(page)  # a new page starts with the menu closed again
    context.close()


def test_the_phone_menu_is_one_line_and_opens_below_the_bar(chromium, live_server, world):
    context, page = open_page(chromium, live_server, PHONE)
    bar = page.locator("header.topbar").bounding_box()
    brand = page.locator(".brand").bounding_box()
    menu = page.locator("details.menu > summary").bounding_box()
    assert (
        menu["y"] < brand["y"] + brand["height"] and brand["y"] < menu["y"] + menu["height"]
    )  # side by side
    assert not nav_link(page, "首页").is_visible()
    page.locator("details.menu > summary").click()
    assert nav_link(page, "首页").bounding_box()["y"] >= bar["y"] + bar["height"] - 0.5
    assert page.locator("header.topbar").bounding_box()["height"] == bar["height"]  # a panel over the page
    context.close()


def test_the_desktop_groups_open_one_at_a_time(chromium, live_server, world):
    context, page = open_page(chromium, live_server, DESKTOP)
    assert not page.locator("details.menu > summary").is_visible()
    reveal_nav_link(page, "干部")
    reveal_nav_link(page, "走访记录")
    assert nav_link(page, "走访记录").is_visible() and not nav_link(page, "干部").is_visible()
    context.close()


def focused_text(page):
    return page.evaluate("document.activeElement.textContent.trim()")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_menu_opens_by_keyboard(chromium, live_server, world, viewport):
    context, page = open_page(chromium, live_server, viewport, "town_a")
    page.locator(".brand").focus()
    if viewport is PHONE:
        page.keyboard.press("Tab")
        assert focused_text(page) == "菜单"
        page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused_text(page) == "首页"
    page.keyboard.press("Tab")
    assert focused_text(page) == "农户"
    page.keyboard.press("Enter")
    assert nav_link(page, "农户名册").is_visible()
    page.keyboard.press("Tab")
    assert focused_text(page) == "农户名册"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{reverse('households:list')}")
    context.close()
