"""Every role rule lives in shuanglian/access.py (design.md, Access): apps ask its functions,
templates read what the `nav` context processor derived from them, and nobody spells a role."""

import ast
import re
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
from shuanglian.context_processors import nav

ROOT = Path(__file__).resolve().parent.parent
ROLE_VALUES = set(User.Role.values)
# Where the role names are defined and the rules written.
HOME = {ROOT / "accounts" / "models.py", ROOT / "shuanglian" / "access.py"}


def _project_modules():
    packages = [path.parent for path in ROOT.glob("*/apps.py")]
    for package in packages:
        for path in package.rglob("*.py"):
            if "migrations" not in path.parts and path not in HOME:
                yield path


def _role_literals(node) -> bool:
    """A role name written as a string, alone or in a tuple, list or set."""
    if isinstance(node, ast.Constant):
        return node.value in ROLE_VALUES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_role_literals(item) for item in node.elts)
    return False


def _is_role(node) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "role") or (
        isinstance(node, ast.Name) and node.id == "role"
    )


def spelled_roles(path: Path) -> list[str]:
    """Lines that compare a role with a literal, filter accounts by one, or name a set of roles."""
    found = []
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_role(side) for side in sides) and any(_role_literals(side) for side in sides):
                found.append(f"{where}:{node.lineno}")
        elif isinstance(node, ast.keyword) and node.arg in ("role", "role__in"):
            if _role_literals(node.value):
                found.append(f"{where}:{node.value.lineno}")
        elif isinstance(node, ast.Assign) and _role_literals(node.value):
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            if any("ROLE" in name for name in names):
                found.append(f"{where}:{node.lineno}")
    return found


def test_no_module_spells_a_role_name():
    spelled = [line for path in _project_modules() for line in spelled_roles(path)]
    assert not spelled, f"compare roles through shuanglian.access / User.Role, not literals: {spelled}"


def test_the_check_finds_a_spelled_role(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'if user.role == "unit": pass\n'
        'User.objects.filter(role="township")\n'
        'OFFICE_ROLES = ("county", "city", "province")\n'
        "if user.role == User.Role.UNIT: pass\n",
        encoding="utf-8",
    )
    assert sorted(line.rsplit(":", 1)[1] for line in spelled_roles(sample)) == ["1", "2", "3"]


TEMPLATE_ROLE = re.compile(r"{%[^%]*\b(?:user\.role|is_superuser)\b[^%]*%}")


def test_templates_ask_nav_not_the_role():
    """A template shows a link by `nav.<rule>` (shuanglian/context_processors.py)."""
    templates = [path for path in ROOT.rglob("templates/**/*.html") if ".venv" not in path.parts]
    assert templates
    offending = [
        str(path.relative_to(ROOT))
        for path in templates
        if TEMPLATE_ROLE.search(path.read_text(encoding="utf-8"))
    ]
    assert not offending


# Each nav rule and a page it stands for: the menu offers the link exactly when the page opens.
NAV_PAGES = {
    "reads_regions": "households:regions",
    "may_import": "imports:list",
    "may_unlock_users": "accounts:locked",
    "may_enter_visits": "visits:new",
    "may_open_admin": "admin:index",
}


@pytest.mark.parametrize(
    "username", ["admin", "province", "city_a", "county_a", "town_a", "unit_a", "volunteer"]
)
def test_nav_offers_a_page_exactly_when_it_opens(client, world, username):
    if username == "volunteer":
        user = User.objects.create_user("volunteer", password="x")  # no role: a ballot collector
    else:
        user = getattr(world.users, username)
    request = RequestFactory().get("/")
    request.user = user
    rules = nav(request)["nav"]
    assert set(rules) == set(NAV_PAGES)
    client.force_login(user)
    for rule, page in NAV_PAGES.items():
        status = client.get(reverse(page)).status_code
        if page == "admin:index" and not rules[rule]:
            assert status == 302, (rule, status)  # the admin sends non-staff to its login
            continue
        assert (status == 200) is rules[rule], (rule, status)
