"""The browser enforces the Content-Security-Policy and reports nothing blocked on the key pages.

tests/test_csp.py reads the HTML; this runs the pages' scripts too (the lookup, the admin's select2),
which could still add an inline style or evaluate a string at run time.
"""

import pytest
from django.urls import reverse

from tests.browser import DESKTOP, log_in, wait_for_chooser_focus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_MESSAGE = "Content Security Policy"


def watched_page(chromium):
    """A page that records every console message about a CSP violation."""
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    violations = []

    def hear(message):
        if CSP_MESSAGE in message.text:
            violations.append(message.text)

    page.on("console", hear)
    return context, page, violations


def test_key_pages_run_without_a_csp_violation(chromium, live_server, world):
    context, page, violations = watched_page(chromium)
    log_in(page, live_server, "town_a")

    # Visit entry: the household chooser asks the server and fills its list (lookup.js).
    page.goto(f"{live_server.url}{reverse('visits:new')}")
    wait_for_chooser_focus(page)
    page.keyboard.type("王建国")
    page.keyboard.press("Enter")
    chosen = "() => document.getElementById('id_household').selectedOptions[0].text.startsWith('王建国')"
    page.wait_for_function(chosen)

    # The household list, filtered (filter.js), and the household's page.
    page.goto(f"{live_server.url}{reverse('households:list')}")
    page.wait_for_load_state("load")
    page.goto(f"{live_server.url}{reverse('households:detail', args=[world.household_a.pk])}")
    page.wait_for_load_state("load")

    # Coverage, and the second-factor page with its inline SVG QR code.
    page.goto(f"{live_server.url}{reverse('pairing:coverage')}")
    page.wait_for_load_state("load")
    page.goto(f"{live_server.url}{reverse('accounts:otp_setup')}")
    page.locator("svg").first.wait_for()
    page.wait_for_load_state("load")
    assert violations == []
    context.close()


def test_the_admin_runs_without_a_csp_violation(chromium, live_server, world):
    context, page, violations = watched_page(chromium)
    log_in(page, live_server, "admin")
    # An add page with autocomplete fields: select2 draws its box and, opened, its dropdown.
    page.goto(f"{live_server.url}{reverse('admin:pairing_cadre_add')}")
    page.locator(".select2-selection").first.click()
    page.locator(".select2-results__option").first.wait_for()
    page.goto(f"{live_server.url}{reverse('admin:households_household_changelist')}")
    page.wait_for_load_state("load")
    assert violations == []
    context.close()


def test_the_listener_hears_a_violation(chromium, live_server, world):
    """The two tests above could pass by hearing nothing: an inline style added here is blocked and heard."""
    context, page, violations = watched_page(chromium)
    log_in(page, live_server, "town_a")
    with page.expect_console_message(lambda message: CSP_MESSAGE in message.text):
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    assert violations
    context.close()
