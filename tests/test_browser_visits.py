"""Month-end entry on the keyboard, on a desktop and on a phone."""

import pytest

from tests import factories as f
from tests.browser import DESKTOP, PHONE, log_in, wait_for_chooser_focus
from visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("viewport", "count"), [(DESKTOP, 5), (PHONE, 1)], ids=["desktop", "phone"])
def test_township_staff_enter_visits_with_the_keyboard(chromium, live_server, world, viewport, count):
    # One cadre's paper diary, copied in page by page.
    names = [f"东关户{index}" for index in range(count)]
    diarist = f.cadre(world.unit_a, "周记")
    for name in names:
        f.pairing(diarist, f.household(world.village_a, name, members=1))
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/visits/new/")
    for name in names:
        wait_for_chooser_focus(page)
        page.keyboard.type(name)  # the household chooser's search box has the focus
        page.keyboard.press("Enter")  # asks the server, moves to the list
        # The answer arrives and its first match is chosen.
        page.wait_for_function(
            "name => document.getElementById('id_household').selectedOptions[0].text.startsWith(name)",
            arg=name,
        )
        page.locator("#id_diary").focus()
        page.keyboard.type(f"走访{name}，了解生产情况")
        # Save and next. Wait for the next page's load event: lookup.js (deferred) must be listening
        # before the next name is typed, or a loaded machine loses the keystrokes.
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
        assert "已保存" in page.inner_text(".flash")
        assert page.evaluate("document.activeElement.dataset.lookupFor") == "id_household"
    assert sorted(Visit.objects.values_list("household__head_name", flat=True)) == sorted(names)
    assert set(Visit.objects.values_list("cadre__name", flat=True)) == {"周记"}
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    context.close()
