"""The error workbook a refused roster offers: the original header (plus 错误说明) and every
original row, so that a clerk corrects the cells in place and uploads the workbook again."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from households.models import Household
from tests.test_import_households import family, household_workbook, save
from tests.test_import_pages import upload, work
from tests.test_import_person_rows import export_workbook


def refused_batch(client, data):
    batch = upload(client, data)
    work()
    batch.refresh_from_db()
    assert batch.status == "refused"
    response = client.get(reverse("imports:errors", args=[batch.pk]))
    assert response.status_code == 200
    return batch, load_workbook(io.BytesIO(response.content))


def test_the_error_workbook_is_corrected_in_place_and_imports(client, world):
    """A person-row export without 户编号: a bad category on one head's row and a bad ID on a
    member's row. The workbook keeps the header and all rows in order; fixing the two cells and
    uploading it again brings in the whole file."""
    families = [family(1, "张三"), family(2, "李四", category="特困户"), family(3, "王五", size=2)]
    wife = families[2][1][1][1]
    bad_id = wife[:17] + ("0" if wife[17] != "0" else "1")
    families[2][1][1] = (families[2][1][1][0], bad_id, *families[2][1][1][2:])
    client.force_login(world.users.town_a)
    batch, book = refused_batch(client, export_workbook(families))
    assert batch.report["error_count"] == 2
    assert book.sheetnames == ["建档立卡人口"]
    sheet = book["建档立卡人口"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "错误说明" and header[1:] == [
        "序号",
        "县",
        "乡镇",
        "行政村",
        "村民小组",
        "户主姓名",
        "姓名",
        "身份证号",
        "与户主关系",
        "民族",
        "健康状况",
        "贫困户属性",
        "主要致贫原因",
        "人均纯收入",
        "家庭人口数",
    ]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [row[1] for row in rows] == list(range(1, 9))  # every original row, in order (序号 1–8)
    explained = [(row[1], row[0]) for row in rows if row[0]]
    assert [number for number, _text in explained] == [4, 8]  # the rows with errors, and only those
    assert "“贫困户属性”列：不是允许的值" in explained[0][1] and "校验位错误" in explained[1][1]
    # Column 1 is 错误说明: the file's column i (from 0) is column i + 2.
    assert sheet.cell(9, 7 + 2).value == bad_id and sheet.cell(9, 7 + 2).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(9, 7 + 2).number_format == "@"  # IDs stay text when the clerk edits them

    sheet.cell(5, 11 + 2).value = "一般贫困户"
    sheet.cell(9, 7 + 2).value = wife
    fixed = upload(client, save(book), name="马营镇花名册-错误.xlsx")
    work()
    fixed.refresh_from_db()
    assert fixed.status == "checked", fixed.report.get("errors")
    assert fixed.report["counts"]["households_new"] == 3 and fixed.report["counts"]["members_new"] == 8
    client.post(reverse("imports:confirm", args=[fixed.pk]))
    work()
    assert Household.objects.get(head_id_number=families[1][0]["id"]).category == "一般贫困户"
    assert Household.objects.get(head_id_number=families[2][0]["id"]).members.count() == 2


def test_a_two_sheet_roster_keeps_both_sheets_when_only_the_members_are_wrong(client, world):
    row, members = family(1, "张三")
    members[2] = (*members[2][:2], "老婆", *members[2][3:])
    client.force_login(world.users.town_a)
    _batch, book = refused_batch(client, household_workbook([(row, members), family(2, "李四")]))
    assert book.sheetnames == ["建档立卡户", "家庭成员"]  # the hidden sheet stays out
    assert [c.value for c in book["建档立卡户"][2]][6] == "张三"
    member_sheet = book["家庭成员"]
    assert [c.value for c in member_sheet[1]][:3] == ["错误说明", "户主身份证号", "姓名"]
    member_sheet.cell(4, 3 + 2).value = "之子"  # 与户主关系, the file's column 3
    fixed = upload(client, save(book))
    work()
    fixed.refresh_from_db()
    assert fixed.status == "checked", fixed.report.get("errors")
    assert fixed.report["counts"]["households_new"] == 2 and fixed.report["counts"]["members_new"] == 6


def test_formula_like_cells_of_the_file_are_escaped(client, world):
    row, members = family(1, "张三", phone="+8613809310001", category="特困户")
    client.force_login(world.users.town_a)
    _batch, book = refused_batch(client, household_workbook([(row, members)]))
    values = [c.value for c in book["建档立卡户"][2]]
    assert values[1 + 8] == "'+8613809310001"
