"""The layers of /work/shared/design.md, in Python and in templates:

households ← pairing ← visits ← demands, plans, imports ← evaluation ← inspections ← reports ← dashboard

An app may import the apps below it, never one above or beside it; its templates may `{% load %}`
only tag libraries of its own layer or below, and `{% url %}` only pages of its own layer or below.
Where a lower page shows something from a higher app, the higher app registers it: the visit entry
page gets its demand rows through visits.entry, the household page its sections through
households.sections.

The project package `shuanglian` (settings, access rules, lib) and `accounts` (who signs in, with
which role) are the base every app may use; `demo` loads data for every app and sits on top.
"""

import ast
import re
from pathlib import Path

import pytest
from django.template import engines
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = {path.parent.name for path in ROOT.glob("*/apps.py")} - {"shuanglian"}
BASE = {"shuanglian", "accounts"}

# Bottom to top; the apps of one layer may not import each other.
LAYERS = [
    {"households"},
    {"pairing"},
    {"visits"},
    {"demands", "plans", "imports"},
    {"evaluation"},
    {"inspections"},
    {"reports"},
    {"dashboard"},
    {"demo"},
]
BELOW = {app: set().union(*LAYERS[:index]) for index, layer in enumerate(LAYERS) for app in layer}
BELOW["accounts"] = set()


def imported_apps(app: str) -> dict[str, str]:
    """The project apps `app` imports, each with one file that does."""
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in PROJECT_APPS and top != app:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_app_has_a_layer():
    assert PROJECT_APPS - set(BELOW) == set(), "place the new app in LAYERS"


@pytest.mark.parametrize("app", sorted(BELOW))
def test_an_app_imports_only_the_layers_below_it(app):
    allowed = BELOW[app] | (BASE if app not in BASE else set())
    above = {other: path for other, path in imported_apps(app).items() if other not in allowed}
    assert not above, f"{app} imports apps above or beside it: {above}"


def test_the_project_package_imports_only_the_base():
    """shuanglian holds the access rules every app asks; it reads the role names from accounts,
    and the root URLconf names every app's URLs (by string)."""
    found = {other: path for other, path in imported_apps("shuanglian").items() if other not in BASE}
    assert not found


# --- Templates ------------------------------------------------------------------------------------

LOAD = re.compile(r"{%\s*load\s+([^%]+?)\s*%}")
URL = re.compile(r"""{%\s*url\s+['"]([^'"]+)['"]""")


def _library_apps() -> dict[str, str]:
    """Each tag library's name → the app that defines it (Django's own and packages' → None)."""
    libraries = engines["django"].engine.libraries
    return {name: module.split(".")[0] for name, module in libraries.items()}


def _url_apps() -> dict[str, str]:
    """Each URL name (with its namespaces) → the app whose view serves it."""
    names = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                view = pattern.callback
                module = getattr(view, "view_class", view).__module__
                names.setdefault(f"{namespace}{pattern.name}", module.split(".")[0])

    walk(get_resolver().url_patterns, "")
    return names


# The home page every page's menu (base.html) links: a way out, not a reach into the dashboard.
BASE_URLS = {"home"}


def template_reach(path: Path) -> set[tuple[str, str]]:
    """(what, the project app it belongs to) for each library the template loads and URL it names."""
    text = path.read_text(encoding="utf-8")
    libraries, urls = _library_apps(), _url_apps()
    reached = set()
    for group in LOAD.findall(text):
        for name in group.split():
            if name == "from":  # {% load tag from library %}
                break
            reached.add((f"load {name}", libraries[name]))
    for name in URL.findall(text):
        if name not in BASE_URLS:
            reached.add((f"url {name}", urls[name]))
    return {(what, app) for what, app in reached if app in PROJECT_APPS}


def _app_templates():
    for app in sorted(BELOW):
        for folder in (ROOT / "templates" / app, ROOT / app / "templates" / app):
            for path in sorted(folder.rglob("*.html")):
                yield app, path


@pytest.mark.parametrize("app", sorted(BELOW))
def test_an_apps_templates_reach_only_the_layers_below_it(app):
    allowed = BELOW[app] | BASE | {app}
    above = [
        f"{path.relative_to(ROOT)}: {what} ({other})"
        for owner, path in _app_templates()
        if owner == app
        for what, other in template_reach(path)
        if other not in allowed
    ]
    assert not above, f"{app}'s templates reach apps above or beside it: {above}"


def test_the_template_check_sees_libraries_and_urls(tmp_path):
    sample = tmp_path / "sample.html"
    sample.write_text(
        "{% load humanize pairing_links %}{% url 'demands:list' %}{% url 'households:list' %}",
        encoding="utf-8",
    )
    assert template_reach(sample) == {
        ("load pairing_links", "pairing"),
        ("url demands:list", "demands"),
        ("url households:list", "households"),
    }


def test_the_visit_page_gets_its_demand_rows_from_the_demands_app():
    from demands.visit_entry import DEMAND_ROWS
    from visits.entry import SECTIONS

    assert SECTIONS == [DEMAND_ROWS]


def test_the_household_pages_get_their_parts_from_the_apps_above():
    from households import sections

    assert [section.template for section in sections.SECTIONS] == [
        "pairing/household_pairings.html",
        "visits/visit_timeline.html",
        "plans/household_plan_card.html",
        "demands/household_demands.html",
    ]
    labels = {place: [str(link.label) for link in links] for place, links in sections.LINKS.items()}
    assert labels == {
        "household": ["走访记录", "录入走访"],
        "household_list": ["导出 Excel（可再导入）"],
        "region": ["村帮扶计划", "联户覆盖情况"],
    }


@pytest.mark.django_db
def test_the_household_page_shows_the_registered_parts_in_order(client, world):
    client.force_login(world.users.town_a)
    page = client.get(reverse("households:detail", args=[world.household_a.pk])).content.decode()
    headings = ["<h2>帮扶干部</h2>", "<h2>走访记录</h2>", "<h2>帮扶计划</h2>", '<h2 id="demands">诉求</h2>']
    positions = [page.find(heading) for heading in headings]
    assert -1 not in positions and positions == sorted(positions), positions
    assert page.find(">录入走访</a>") < positions[0]  # the visit buttons sit in the page's heading
