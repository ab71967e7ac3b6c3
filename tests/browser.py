"""Playwright driving Debian's Chromium (never a downloaded browser), and the live server it talks to."""

import contextlib
import os
import shutil
import threading

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# The machine has no network: background services would only fail their lookups.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server, answering one request at a time on SQLite.

    On SQLite the tests' database is one in memory with a shared cache, and each request thread
    of the server opens its own connection to it. Shared-cache connections lock whole tables, and
    a conflict is not waited out: it fails at once with 「database table is locked」. A page asks
    several things at once (a lookup while typing and again on Enter, the responsible cadre while
    the visit is saved), and any request may write the session (accounts.middleware touches it
    once a minute, so a slow run does): the lookup that lost failed with a 500, lookup.js showed
    「（无匹配）」 and the test waited 30 s for a match. A busy machine makes the overlaps longer.
    Here each request runs whole (its body read, its end of request run) under a lock, and the
    test thread takes the same lock (`live_server.db_lock`) to use the database while a page may
    still be asking (the import worker beside a polling page). PostgreSQL needs none of this.
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        lock = threading.Lock()
        httpd = live_server.thread.httpd
        app = httpd.get_app()

        def one_at_a_time(environ, start_response):
            with lock:
                response = app(environ, start_response)
                try:
                    return [b"".join(response)]
                finally:
                    if hasattr(response, "close"):
                        response.close()  # request_finished: Django's end of request, under the lock

        httpd.set_app(one_at_a_time)
        live_server.db_lock = lock
    else:
        live_server.db_lock = contextlib.nullcontext()
    return live_server


def log_in(page, live_server, username, password="pw"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def wait_for_chooser_focus(page, field="id_household"):
    """Wait until the chooser's search box has the keyboard, as a person waits for the cursor.

    Chromium applies `autofocus` at its next rendering step, which on a busy machine can come after
    the load event: keys typed before it go to the page body and are lost.
    """
    page.wait_for_function("field => document.activeElement?.dataset.lookupFor === field", arg=field)


def nav_link(page, text):
    """The top navigation's link called `text`."""
    return page.locator("nav.nav").get_by_role("link", name=text, exact=True, include_hidden=True)


def reveal_nav_link(page, text):
    """Open 菜单 (on a phone) and the link's group if they are closed; return the link."""
    link = nav_link(page, text)
    menu = page.locator("details.menu > summary")
    if not link.is_visible() and menu.is_visible() and page.locator("details.menu[open]").count() == 0:
        menu.click()
    group = page.locator(
        "nav.nav details.group", has=page.get_by_role("link", name=text, exact=True, include_hidden=True)
    )
    if not link.is_visible() and group.count():
        group.locator("summary").click()
    return link


def click_nav_link(page, text):
    reveal_nav_link(page, text).click()
