"""The live server holds when a page asks it several things at once (issue 11, a suite that holds
under load): on SQLite its request threads share the test's one in-memory connection."""

import pytest

from households.models import RevealLog
from tests.browser import DESKTOP, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Six 显示完整 presses at once (Chromium's connections per host): each writes its log row, and the
# session too, since every request here is due to touch it.
PRESS_AT_ONCE = """async (url) => {
  const token = document.querySelector("form.reveal input[name=csrfmiddlewaretoken]").value;
  const press = () => {
    const body = new FormData();
    body.append("csrfmiddlewaretoken", token);
    body.append("field", "head_id_number");
    return fetch(url, {method: "POST", body, credentials: "same-origin"});
  };
  const answers = await Promise.all(Array.from({length: 6}, press));
  return answers.map((answer) => answer.status);
}"""


def test_requests_made_at_once_are_all_answered(chromium, live_server, world, monkeypatch):
    import accounts.middleware

    monkeypatch.setattr(accounts.middleware, "_TOUCH_EVERY_SECONDS", 0)
    household = world.household_a
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/households/{household.pk}/")
    for _ in range(10):
        statuses = page.evaluate(PRESS_AT_ONCE, f"{live_server.url}/households/{household.pk}/reveal/")
        assert statuses == [200] * 6
    with live_server.db_lock:
        assert RevealLog.objects.count() == 60
    context.close()
