"""Content-Security-Policy and Permissions-Policy on every page, and pages that need no exception.

Every URL × every role of tests/test_access_matrix.py (200s, 403s and 404s alike) carries both headers,
the policy allows nothing inline, and the HTML has nothing inline that the policy would block.
"""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import reverse
from import_export.admin import ExportMixin

from tests.test_access_matrix import MATRIX

EXPECTED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


class InlineFinder(HTMLParser):
    """Collects what a strict policy blocks: inline script bodies, <style>, style= and on*= attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._script = None  # the open <script>'s attributes, while inside one

    def handle_starttag(self, tag, attrs):
        for name, _value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            self._script = dict(attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        # json_script's <script type="application/json"> is data, never run: the policy lets it be.
        if self._script is not None and data.strip() and self._script.get("type") != "application/json":
            self.found.append(f"<script>{data.strip()[:40]}")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict_page(response, where):
    assert "Content-Security-Policy" in response.headers, where
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, where
    assert directives(response) == EXPECTED_DIRECTIVES, where
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where
    if response.headers.get("Content-Type", "").startswith("text/html"):
        assert inline_parts(response.content.decode()) == [], where


def test_the_finder_sees_what_the_policy_blocks():
    html = """<p style="color:red">x</p><button onclick="go()">y</button><style>p{}</style>
      <script>alert(1)</script><script src="/static/a.js"></script>
      <script id="d" type="application/json">{"a": 1}</script>"""
    assert inline_parts(html) == ["<p style=…>", "<button onclick=…>", "<style>", "<script>alert(1)"]


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_page_of_the_matrix_is_strict(client, world, name):
    case = MATRIX[name]
    for usernames in (case.allowed, case.forbidden, case.outsiders):
        for username in usernames:
            url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
            client.force_login(getattr(world.users, username))
            response = getattr(client, case.method)(url, **case.extra)
            if usernames is case.allowed and case.method == "get":
                assert response.status_code == case.ok, f"{username} {url}"  # the real page was checked
            assert_strict_page(response, f"{username} {url} {response.status_code}")


@pytest.mark.parametrize("url", ["/accounts/login/", "/no-such-page/"])
def test_public_pages_are_strict(client, db, url):
    assert_strict_page(client.get(url), url)


def test_a_csrf_failure_page_is_strict_and_in_chinese(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()
    assert_strict_page(response, "csrf failure")


def _admin_models():
    return sorted(f"{model._meta.app_label}_{model._meta.model_name}" for model in admin.site._registry)


@pytest.mark.parametrize("model", _admin_models())
def test_admin_pages_are_strict(client, world, model):
    """The admin needs no exception: every list, add page and change page of every registered model."""
    client.force_login(world.users.admin)
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    assert_strict_page(response, "changelist")
    response = client.get(reverse(f"admin:{model}_add"))
    assert response.status_code in (200, 403)
    assert_strict_page(response, "add")
    registered = next(m for m in admin.site._registry if f"{m._meta.app_label}_{m._meta.model_name}" == model)
    if (row := registered._default_manager.first()) is not None:
        response = client.get(reverse(f"admin:{model}_change", args=[row.pk]))
        assert response.status_code == 200
        assert_strict_page(response, "change")


def test_the_admin_export_form_is_never_shown(client, world):
    """django-import-export's export form has an inline onchange= and style= attributes that the policy
    blocks; every export in the admin skips it and sends the workbook at once."""
    exporters = [each for each in admin.site._registry.values() if isinstance(each, ExportMixin)]
    assert exporters
    assert all(model_admin.skip_export_form for model_admin in exporters)
    client.force_login(world.users.admin)
    response = client.get(reverse("admin:pairing_cadre_export"))
    assert response.status_code == 200
    assert not response.headers["Content-Type"].startswith("text/html")
