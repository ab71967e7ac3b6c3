"""The layers of /work/shared/design.md: households ← pairing ← visits ← later apps (demands, plans…).

An app may import the apps below it, never one above: the visit entry page gets its demand rows
through visits.entry, which the demands app registers with.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The project package (settings, access plumbing, lib) is not a layer: every app uses it.
PROJECT_APPS = {path.parent.name for path in ROOT.glob("*/apps.py")} - {"shuanglian"}
BELOW = {
    "households": set(),
    "pairing": {"households"},
    "visits": {"households", "pairing"},
    "evaluation": {"households", "pairing", "visits", "demands", "plans"},
    "reports": {
        "households",
        "pairing",
        "visits",
        "demands",
        "plans",
        "imports",
        "evaluation",
        "inspections",
    },
    "inspections": {"households", "pairing", "visits", "demands", "plans", "evaluation"},
}


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


@pytest.mark.parametrize("app", sorted(BELOW))
def test_an_app_imports_only_the_layers_below_it(app):
    above = {other: path for other, path in imported_apps(app).items() if other not in BELOW[app]}
    assert not above, f"{app} imports apps above it: {above}"


def test_the_visit_page_gets_its_demand_rows_from_the_demands_app():
    from demands.visit_entry import DEMAND_ROWS
    from visits.entry import SECTIONS

    assert SECTIONS == [DEMAND_ROWS]
