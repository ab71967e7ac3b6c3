"""No generated workbook holds a formula: every .xlsx the app offers goes through shuanglian/lib/excel.py.

Hostile text (`=cmd|' /C calc'!A0`, `+1+1`, `@SUM(1)`, `-2+3`, an upload named `=1+1 xss roster.xlsx`)
is planted where each export reads it; every workbook is downloaded and read back with openpyxl.
"""

import ast
import io
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse
from openpyxl import load_workbook

from demands import services as demand_services
from imports import services as import_services
from shuanglian.lib.excel import XLSX, safe_cell_value, workbook_bytes
from tests import factories as f
from tests.test_access_matrix import MATRIX
from tests.test_import_households import family, household_workbook

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-2+3", "\t=1", "＝1+1"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# Every workbook the pages offer (a new export joins this list, and the scan below, by design).
# The scan runs as the superuser: a background export's file is its requester's alone, and the
# province's annual summary is a background export; tests/test_annual.py checks that workbook.
WORKBOOK_URLS = {
    "demands:export",
    "evaluation:paper_sheet",
    "evaluation:results_export",
    "imports:errors",
    "imports:export_households",
    "imports:template",
    "pairing:coverage_list",
    "reports:board_xlsx",
    "reports:xlsx",
}


def formula_cells(content: bytes) -> list[str]:
    """Cells a spreadsheet would run: formulas, or text that starts like one."""
    found = []
    for sheet in load_workbook(io.BytesIO(content)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (
                    isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)
                ):
                    found.append(f"{sheet.title}!{cell.coordinate}={cell.value!r}")
    return found


def test_the_writer_escapes_text_and_keeps_numbers_and_dates():
    import datetime
    from decimal import Decimal

    assert [safe_cell_value(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert safe_cell_value("正常 = 1") == "正常 = 1"
    assert safe_cell_value("a\x01b") == "a\ufffdb"  # openpyxl refuses control characters
    day = datetime.date(2026, 3, 1)
    assert [safe_cell_value(v) for v in (-5, 1.5, Decimal("2.50"), day, None)] == [
        -5,
        1.5,
        Decimal("2.50"),
        day,
        None,
    ]
    sheet = load_workbook(io.BytesIO(workbook_bytes("t", ["a", "b"], [["=1+1", -5], ["-x", day]]))).active
    assert [(c.value, c.data_type) for c in sheet[2]] == [("'=1+1", "s"), (-5, "n")]
    assert sheet["B3"].is_date and sheet["A3"].value == "'-x"


def test_an_upload_named_like_a_formula_gives_an_error_workbook_without_formulas(client, world):
    data = household_workbook([family(1), family(2, "李四", category="特困户")])
    batch = import_services.create_batch(
        data=data, filename="=1+1 xss roster.xlsx", kind="households", user=world.users.town_a
    )
    import_services.check_batch(batch=batch)
    client.force_login(world.users.town_a)
    response = client.get(reverse("imports:errors", args=[batch.pk]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["建档立卡户"]
    # The file name no longer goes in (the header row comes first, to upload the workbook again).
    assert sheet["A1"].value == "错误说明"
    assert formula_cells(response.content) == []


@pytest.fixture
def hostile(world):
    """Formula-like text in every field an export writes out, on side A."""
    household = f.household(
        world.village_a, HOSTILE[0], members=1, phone=HOSTILE[1]
    )  # unpaired: coverage lists it
    household.group = HOSTILE[2]
    household.save(update_fields=["group"])
    f.cadre(world.unit_a, HOSTILE[3], post=HOSTILE[0])
    demand_services.raise_demand(
        household=world.household_a, category="住房", text=HOSTILE[0], by=world.users.town_a
    )
    return world


def _matrix_workbooks(client, world):
    """(URL name, content) of every GET page of the URL map that answers with a workbook."""
    client.force_login(world.users.admin)
    for name, case in MATRIX.items():
        if case.method != "get":
            continue
        url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
        for query in ({}, {"format": "xlsx"}):
            response = client.get(url, query)
            if response.get("Content-Type") == XLSX:
                yield name, response.content
                break


def test_no_workbook_the_app_offers_holds_a_formula(client, hostile):
    seen = set()
    for name, content in _matrix_workbooks(client, hostile):
        seen.add(name)
        assert formula_cells(content) == [], name
    assert seen == WORKBOOK_URLS


def test_no_admin_export_holds_a_formula(client, hostile):
    client.force_login(hostile.users.admin)
    exports = [
        f"admin:{model._meta.app_label}_{model._meta.model_name}_export"
        for model, model_admin in admin.site._registry.items()
        if hasattr(model_admin, "has_export_permission")
    ]
    assert exports  # the cadre list's 导出
    for name in exports:
        response = client.get(reverse(name))
        assert response.status_code == 200 and response["Content-Type"] == XLSX, name
        assert formula_cells(response.content) == [], name
    names = [
        row[1]
        for row in load_workbook(
            io.BytesIO(client.get(reverse("admin:pairing_cadre_export")).content)
        ).active.iter_rows(min_row=2, values_only=True)
    ]
    assert "'" + HOSTILE[3] in names  # escaped, not stripped


def test_only_the_writer_builds_workbooks():
    """openpyxl's Workbook and WriteOnlyCell are used in shuanglian/lib/excel.py only (bench/ and
    tests/ build input files, not downloads)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "bench"} or relative == Path("shuanglian/lib/excel.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl"):
                names = {alias.name for alias in node.names}
                if names & {"Workbook", "WriteOnlyCell"}:
                    offenders.append(str(relative))
    assert not offenders
