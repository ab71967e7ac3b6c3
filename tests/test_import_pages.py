"""The web flow on the real django-tasks database backend: upload → the worker checks →
preview → confirm → the worker writes. Plus the template, the error workbook and the
export that imports back unchanged."""

import io
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from households.models import Household
from imports.households import import_households
from imports.models import ImportBatch
from tests.test_import_households import family, household_workbook, snapshot


def work():
    """Run every queued job, as `manage.py db_worker` does, then stop.

    Between jobs the worker closes connections it judges unusable, and inside a test's
    transaction (autocommit off) PostgreSQL's would be judged so: keep it open.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def upload(client, data, name="马营镇花名册.xlsx"):
    response = client.post(
        reverse("imports:list"), {"kind": "households", "file": SimpleUploadedFile(name, data)}
    )
    assert response.status_code == 302
    return ImportBatch.objects.latest("pk")


def test_upload_check_preview_confirm_done(client, world):
    client.force_login(world.users.town_a)
    batch = upload(client, household_workbook([family(1), family(2, "李四")]))
    assert batch.status == "queued" and batch.created_by == world.users.town_a
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "正在检查" in page and "import_progress.js" in page
    assert client.get(reverse("imports:status", args=[batch.pk])).json()["running"] is True

    work()
    batch.refresh_from_db()
    assert batch.status == "checked" and batch.rows_read == 8
    assert not Household.objects.filter(head_name="李四").exists()  # the preview writes nothing
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "新增农户" in page and "确认导入" in page
    # Each new household is listed before anything is written: who, where, how many, which row.
    assert "新增明细（共 2 户）" in page
    assert "李四户（马营镇东关村 3社，3 人，一般贫困户；建档立卡户第5行）" in page

    response = client.post(reverse("imports:confirm", args=[batch.pk]))
    assert response.status_code == 302
    work()
    batch.refresh_from_db()
    assert batch.status == "done" and batch.confirmed_by == world.users.town_a and batch.applied_at
    assert len(batch.created_households) == 2
    assert Household.objects.get(head_name="李四").members.count() == 3
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "已导入" in page and "确认导入" not in page
    # Confirming twice does nothing more.
    client.post(reverse("imports:confirm", args=[batch.pk]))
    assert not ImportBatch.objects.filter(status="applying").exists()


def test_a_refused_file_shows_its_errors_and_a_highlighted_error_workbook(client, world):
    client.force_login(world.users.town_a)
    families = [family(1), family(2, "李四", category="特困户")]
    before = snapshot()
    batch = upload(client, household_workbook(families))
    work()
    batch.refresh_from_db()
    assert batch.status == "refused" and batch.report["error_count"] == 1
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "工作表“建档立卡户”第5行“贫困户属性”列（特困户）" in page and "确认导入" not in page
    response = client.get(reverse("imports:errors", args=[batch.pk]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["建档立卡户"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:3] == [
        "错误说明",
        "序号",
        "县",
    ]  # the original header, 错误说明 in front
    bad_row = rows[2]
    assert "“贫困户属性”列：不是允许的值" in bad_row[0].value and rows[1][0].value is None
    assert bad_row[1 + 9].value == "特困户" and bad_row[1 + 9].fill.fgColor.rgb.endswith("FFC7CE")
    assert bad_row[1 + 6].value == families[1][0]["id"] and bad_row[1 + 8].fill.fgColor.rgb in (
        None,
        "00000000",
    )
    assert snapshot() == before


def test_a_file_that_cannot_be_read_is_refused_with_a_message(client, world):
    client.force_login(world.users.town_a)
    batch = upload(client, b"%PDF-1.4\x00\x00", "名册.xlsx")
    work()
    batch.refresh_from_db()
    assert batch.status == "refused" and "不是电子表格" in batch.message
    assert "不是电子表格" in client.get(reverse("imports:detail", args=[batch.pk])).content.decode()


def test_the_template(client, world):
    client.force_login(world.users.town_a)
    response = client.get(reverse("imports:template", args=["households"]))
    book = load_workbook(io.BytesIO(response.content))
    assert book["选项"].sheet_state == "hidden"
    households = book["农户"]
    headers = [c.value for c in households[1]]
    assert headers[:7] == ["序号", "县", "乡(镇)", "村", "社", "户主姓名", "身份证号码"]
    assert households.cell(2, 1).value == "示例" and households.cell(5, 7).number_format == "@"
    assert households.cell(1, 7).comment and "文本格式" in households.cell(1, 7).comment.text
    formulas = {v.formula1 for v in households.data_validations.dataValidation}
    assert any("选项!" in formula for formula in formulas)
    assert book["家庭成员"].cell(1, 2).value == "户主身份证号"
    # The template as downloaded holds only the example row, which the import skips.
    result_message = None
    try:
        import_households(response.content, user=world.users.town_a, filename="t.xlsx")
    except Exception as error:  # noqa: BLE001 - the refusal text is what we check
        result_message = str(error)
    assert result_message == "工作表“农户”在表头下面没有数据"


def test_a_filled_in_template_imports(client, world):
    response = client.get(reverse("imports:template", args=["households"]))
    client.force_login(world.users.town_a)
    book = load_workbook(io.BytesIO(client.get(reverse("imports:template", args=["households"])).content))
    row, members = family(1, size=2)
    book["农户"].append(
        [
            1,
            "通渭县",
            "马营镇",
            "东关村",
            "1社",
            row["户主"],
            row["id"],
            2,
            "",
            "低保户",
            "因学",
            "",
            1800,
            "",
            "",
        ]
    )
    for person in members:
        book["家庭成员"].append(
            [1, row["id"], person[0], person[1], person[2], "回族", "", "", "", "", "", "是", "否"]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_households(buffer.getvalue(), user=world.users.town_a, filename="t.xlsx")
    assert result.ok, [str(e) for e in result.errors]
    household = Household.objects.get(head_id_number=row["id"])
    assert household.category == "低保户" and household.members.filter(ethnicity="回族").count() == 2
    assert response.status_code == 302  # anonymous: sent to log in


def test_the_export_imports_back_unchanged_and_escapes_formulas(client, world):
    assert import_households(household_workbook([family(1), family(2, "李四")]), user=world.users.town_a).ok
    Household.objects.filter(head_name="李四").update(phone="=1+2", other_causes=["缺资金", "因学"])
    client.force_login(world.users.town_a)
    response = client.get(reverse("imports:export_households"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    households = book["农户"]
    phones = [row[7].value for row in households.iter_rows(min_row=2)]
    assert "'=1+2" in phones
    id_cells = [row[5] for row in households.iter_rows(min_row=2)]
    assert all(isinstance(c.value, str) and c.number_format == "@" for c in id_cells)
    # Only town_a's households: the two imported and 王建国 from the fixture.
    assert households.max_row == 4 and book["家庭成员"].max_row == 1 + 3 + 3 + 3

    before = snapshot()
    result = import_households(response.content, user=world.users.town_a, filename="export.xlsx")
    assert result.ok, [str(e) for e in result.errors]
    assert result.changes == []
    assert result.counts == {
        "households_new": 0,
        "households_changed": 0,
        "households_unchanged": 3,
        "members_new": 0,
        "members_changed": 0,
        "members_unchanged": 9,
    }
    assert snapshot() == before


def test_the_export_follows_the_list_filters_and_the_scope(client, world):
    client.force_login(world.users.county_a)
    book = load_workbook(
        io.BytesIO(client.get(reverse("imports:export_households"), {"q": "赵德胜"}).content)
    )
    assert [row[4].value for row in book["农户"].iter_rows(min_row=2)] == ["赵德胜"]
    client.force_login(world.users.town_b)
    book = load_workbook(io.BytesIO(client.get(reverse("imports:export_households")).content))
    assert [row[4].value for row in book["农户"].iter_rows(min_row=2)] == ["妥有福"]
