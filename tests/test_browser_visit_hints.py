"""The visit entry page on a phone: no keyboard hint, and the chosen household's responsible cadre
named before saving (issue 19.8)."""

import pytest

from tests import factories as f
from tests.browser import DESKTOP, PHONE, log_in, wait_for_chooser_focus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_phone_shows_no_keyboard_hint_and_names_the_responsible_cadre(chromium, live_server, world):
    f.pairing(f.cadre(world.unit_a, "周记"), f.household(world.village_a, "马向东", members=1))
    f.household(world.village_a, "马无人", members=1)  # no responsible cadre
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/visits/new/")
    assert page.locator(".key-hint").is_hidden()
    assert page.get_by_role("button", name="保存并录入下一条").is_visible()
    assert "再从列表中选定" in page.inner_text(".visit-form")
    wait_for_chooser_focus(page)
    page.keyboard.type("马向东")
    page.keyboard.press("Enter")
    note = page.locator("#responsible-cadre")
    note.filter(has_text="帮扶责任人：周记").wait_for()
    assert "走访干部不选，即记为此人的走访" in note.inner_text()
    page.fill("[data-lookup-for=id_household]", "马无人")
    page.locator("[data-lookup-for=id_household]").press("Enter")
    note.filter(has_text="没有帮扶责任人").wait_for()
    assert "warn" in note.get_attribute("class")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


@pytest.mark.parametrize(
    ("options", "shown"),
    [({}, True), ({"has_touch": True, "is_mobile": True}, False)],
    ids=["keyboard", "touch"],
)
def test_the_keyboard_hint_is_shown_only_with_a_keyboard_on_a_wide_screen(
    chromium, live_server, world, options, shown
):
    context = chromium.new_context(viewport=DESKTOP, **options)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/visits/new/")
    assert page.locator(".key-hint").is_visible() is shown
    context.close()


def test_a_unit_visit_is_entered_on_a_phone_by_ticking_cadres(chromium, live_server, world):
    from visits.models import UnitVisit

    for index in range(12):
        f.cadre(world.unit_a, f"参加{index}")
    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server, "unit_a")
    page.goto(f"{live_server.url}/visits/unit-visits/new/")
    page.select_option("#id_link", label=f"{world.unit_a.name} → {world.village_a.name}")
    page.fill("input[data-filter-for=id_cadres]", "参加1")
    box = page.get_by_label("参加11")
    box.wait_for()
    assert page.get_by_label("参加2").is_hidden()  # filtered out
    row = page.locator("#id_cadres label", has_text="参加11").bounding_box()
    assert row["height"] >= 40  # a thumb's target
    page.locator("#id_cadres label", has_text="参加11").tap()
    page.locator("#id_cadres label", has_text="参加10").tap()
    page.fill("#id_activities", "村两委座谈")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").tap()
    assert "已保存" in page.inner_text(".flash")
    assert sorted(UnitVisit.objects.get().cadres.values_list("name", flat=True)) == ["参加10", "参加11"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
