"""显示完整 in a real browser, on a phone: a plain form POST that shows one whole value."""

import pytest

from households.models import RevealLog
from tests.browser import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_township_officer_reveals_the_head_id_on_a_phone(chromium, live_server, world):
    household = world.household_a
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/households/{household.pk}/")
    assert household.head_id_number not in page.content()
    with page.expect_response(lambda r: r.url.endswith(f"/households/{household.pk}/reveal/")) as answer:
        page.click("button[name=field][value=head_id_number]")
    assert answer.value.status == 200
    page.wait_for_selector(f"dd:has-text('{household.head_id_number}')")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert RevealLog.objects.filter(user=world.users.town_a, object_id=household.pk).count() == 1
    context.close()
