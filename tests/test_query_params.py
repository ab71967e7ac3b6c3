"""Hostile query strings never give a 500 (issue 11, item 7).

Every GET page of the URL × role matrix is sent bad values in every parameter its view reads,
as the superuser and as a township user. PARAMS is a static list; `test_params_list_is_complete`
finds the parameters in the views' source (request.GET reads and the filter forms built from
request.GET) so that a new parameter without an entry here fails.
"""

import datetime
import importlib
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from shuanglian.lib import params
from tests.test_access_matrix import MATRIX

HOUSEHOLD_FILTERS = ["q", "village", "region", "category", "cause", "status", "working_away", "floor_alert"]
DEMAND_FILTERS = ["level", "status", "category", "overdue", "mine", "unattended", "refresh"]
PLAN_YEAR = ["year"]

# URL name -> the GET parameters its view reads.
PARAMS = {
    "home": ["refresh"],
    "households:list": HOUSEHOLD_FILTERS + ["page"],
    "households:lookup": ["q", "village"],
    "pairing:cadre_list": ["q", "rank", "category", "status", "page"],
    "pairing:cadre_lookup": ["q"],
    "pairing:bulk_pair": ["village"],
    "pairing:proposal_list": ["page"],
    "pairing:coverage": ["refresh"],
    "pairing:coverage_region": ["refresh"],
    "pairing:coverage_list": ["format", "page"],
    "visits:list": ["month", "mode", "kind", "page"],
    "visits:new": ["village", "cadre", "household"],
    "visits:worklists": ["on", "refresh"],
    "visits:worklist": ["on", "region", "refresh", "page", "format"],
    "visits:unit_visit_list": ["month", "page"],
    "imports:export_households": HOUSEHOLD_FILTERS,
    "demands:list": DEMAND_FILTERS + ["page"],
    "demands:export": DEMAND_FILTERS,
    "plans:list": ["year", "kind", "page"],
    "plans:village": PLAN_YEAR,
    "plans:village_edit": PLAN_YEAR,
    "plans:household": PLAN_YEAR,
    "plans:household_edit": PLAN_YEAR,
    "reports:dispatch": ["quarter", "refresh"],
    "reports:bulletin_list": ["page"],
    "reports:annual": ["year"],
    "reports:annual_print": ["year"],
    "reports:annual_xlsx": ["year"],
}
# The same bad values for the worklists of every kind.
EXTRA_URLS = {
    "visits:worklist": [{"kind": kind} for kind in ("stale", "quarter", "cadres", "units")],
}

HOSTILE = [
    "0000-00",
    "0001-01-01",
    "9999-12-31",
    "2024-13-45",
    "-1",
    "0",
    "99999999999999999999",
    "abc",
    "",
    "\x00",
    "%00",
    "²",
    "１２",
    "x" * 5000,
    "2024-02-30",
    "1900-01",
    "9999-12",
]


def _urls(world, name):
    case = MATRIX[name]
    if name in EXTRA_URLS:
        return [reverse(name, kwargs=kwargs) for kwargs in EXTRA_URLS[name]]
    return [reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)]


@pytest.mark.parametrize("username", ["admin", "town_a"])
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_bad_query_values_never_give_a_500(world, name, username):
    client = Client(raise_request_exception=False)
    client.force_login(getattr(world.users, username))
    failures = []
    for url in _urls(world, name):
        for param in PARAMS[name]:
            for value in HOSTILE:
                response = client.get(url, {param: value})
                if response.status_code >= 500:
                    failures.append(f"{url}?{param}={value[:20]!r}: {response.status_code}")
        # and all of them at once, each with the last value
        response = client.get(url, {param: "0001-01-01" for param in PARAMS[name]})
        if response.status_code >= 500:
            failures.append(f"{url} with every parameter: {response.status_code}")
    assert not failures, failures


def test_the_issue_urls_answer_200(client, world):
    client.force_login(world.users.town_a)
    for url in (
        "/visits/?month=0000-00",
        "/visits/worklists/?on=0001-01-01",
        "/visits/worklists/stale/?on=0001-01-01",
    ):
        assert client.get(url).status_code == 200, url


# --- the list above is complete --------------------------------------------------------------------

APPS = [
    "accounts",
    "dashboard",
    "demands",
    "households",
    "imports",
    "pairing",
    "plans",
    "visits",
    "shuanglian",
]
READ = re.compile(r"""request\.GET(?:\.get\(|\[)\s*["'](\w+)["']|["'](\w+)["']\s+in\s+request\.GET""")
FORM = re.compile(r"(\w+Form)\(\s*request\.GET")


def _read_in_source():
    root = Path(__file__).resolve().parent.parent
    names, forms = set(), set()
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names |= {a or b for a, b in READ.findall(text)}
            forms |= set(FORM.findall(text))
    return names, forms


def test_params_list_is_complete():
    names, forms = _read_in_source()
    assert {"month", "on", "page", "q"} <= names  # the scan sees the views
    for form_name in forms:
        for module in ("households.forms", "pairing.forms", "demands.forms", "visits.forms", "plans.forms"):
            form = getattr(importlib.import_module(module), form_name, None)
            if form is not None:
                names |= set(form.base_fields)
                break
        else:
            raise AssertionError(f"{form_name} read from request.GET: add its module here")
    listed = {param for params_ in PARAMS.values() for param in params_}
    assert names <= listed, f"add these GET parameters to PARAMS: {sorted(names - listed)}"


# --- the helpers themselves ------------------------------------------------------------------------


def test_parse_month_bounds(settings):
    settings.SHUANGLIAN_DATE_FLOOR = datetime.date(2012, 1, 1)
    assert params.parse_month("2024-03") == (2024, 3)
    for bad in ("0000-00", "2011-12", "2024-13", "9999-12", "2024-3", "２０２４-03", None, ["2024-03"]):
        assert params.parse_month(bad) is None, bad


def test_parse_date_bounds(settings):
    settings.SHUANGLIAN_DATE_FLOOR = datetime.date(2012, 1, 1)
    assert params.parse_date("2012-01-01") == datetime.date(2012, 1, 1)
    for bad in ("0001-01-01", "2011-12-31", "9999-12-31", "2024-02-30", "2024-1-1", "", "\x00"):
        assert params.parse_date(bad, default="d") == "d", bad


def test_parse_int_and_text():
    assert params.parse_int("12", min_value=1) == 12
    for bad in ("-1", "99999999999999999999", "abc", "²", "１２", ""):
        assert params.parse_int(bad, min_value=0, max_value=10**9) is None, bad
    assert params.parse_page("abc") == 1
    assert params.parse_text(" 张\x00三 ") == "张三"
    assert len(params.parse_text("x" * 5000)) == params.MAX_TEXT
    assert params.parse_code("6211") == "6211"
    assert params.parse_code("6211\x00") is None
