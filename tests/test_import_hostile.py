"""Hostile files: each is refused with a Chinese reason naming the file, and none can take the
worker down. The workbooks are written by hand (zipfile and XML strings), as an attacker would,
and read by the real reader in its real child process: nothing is mocked."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from imports.households import import_households
from imports.models import ImportBatch
from imports.reader import FileRefused, FileUnreadable, open_sheets
from imports.sandbox import MAX_CELL_CHARS
from tests.test_import_households import family, household_workbook, snapshot
from tests.test_import_pages import work

HEADER = ["县", "乡镇", "村", "户主姓名", "身份证号码", "户属性"]
ROW = ["通渭县", "马营镇", "东关村", "张三", "621121197001010011", "一般贫困户"]


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: dict, *, dimension: str | None = None, prolog: str = "") -> str:
    """rows: {row number: {column number: text}}."""
    body = "".join(
        f'<row r="{number}">'
        + "".join(cell(f"{column_letters(c)}{number}", text) for c, text in sorted(cells.items()))
        + "</row>"
        for number, cells in sorted(rows.items())
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}'
        f"<sheetData>{body}</sheetData></worksheet>"
    )


def xlsx(sheet: str, *, shared_strings: str | None = None) -> bytes:
    """A workbook of one sheet, every part written by hand."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" '
                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                "</Types>"
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                'Target="xl/workbook.xml"/>'
                "</Relationships>"
            ),
        )
        archive.writestr(
            "xl/workbook.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                '<sheets><sheet name="农户" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                'Target="worksheets/sheet1.xml"/>'
                "</Relationships>"
            ),
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return buffer.getvalue()


def roster_rows(extra=None) -> dict:
    """The header and one household, plus {(row, column): text}."""
    rows = {1: dict(enumerate(HEADER, start=1)), 2: dict(enumerate(ROW, start=1))}
    for (row, column), text in (extra or {}).items():
        rows.setdefault(row, {})[column] = text
    return rows


def far_cell(column: int, row: int, *, declared: bool) -> bytes:
    rows = roster_rows({(row, column): "x"})
    return xlsx(sheet_xml(rows, dimension=f"A1:{column_letters(column)}{row}" if declared else None))


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def refusal(data: bytes, user, filename="hostile.xlsx") -> FileRefused:
    before = snapshot()
    with pytest.raises(FileUnreadable) as error:
        import_households(data, user=user, filename=filename, dry_run=False)
    assert snapshot() == before
    assert f"“{filename}”" in str(error.value)
    return error.value


def test_a_hand_written_workbook_reads():
    """The builder makes a workbook the reader accepts, so the refusals below are the limits'."""
    [sheet] = open_sheets(xlsx(sheet_xml(roster_rows(), dimension="A1:F2")), filename="ok.xlsx")
    assert [cells for _n, cells in sheet.rows] == [HEADER, ROW]


def test_a_declared_dimension_of_the_whole_grid_is_refused_before_reading(world):
    """A1:XFD1048576 would make calamine allocate 512 GB: the declared size stops it first."""
    data = far_cell(16384, 1048576, declared=True)
    assert len(data) < 5000
    message = str(refusal(data, world.users.town_a))
    assert "A1:XFD1048576" in message and "1048576 行、16384 列" in message and "超过上限" in message


def test_an_undeclared_cell_at_xfd1048576_ends_the_child_not_the_worker(world):
    """No <dimension>: the reader sizes the sheet from the cell and asks for 512 GB; the child's
    memory limit refuses it and the reason comes back."""
    message = str(refusal(far_cell(16384, 1048576, declared=False), world.users.town_a))
    assert "内存超过 2048 MB" in message


def test_an_undeclared_cell_at_xfd5000_is_refused(world):
    """2.6 GB in the reader, past the child's 2 GB: refused instead of taking the worker's memory."""
    message = str(refusal(far_cell(16384, 5000, declared=False), world.users.town_a))
    assert "内存超过" in message


def test_a_cell_beyond_the_columns_limit_is_refused_by_its_row(world):
    """Within memory but wider than any roster (declared small, as a liar would)."""
    data = xlsx(sheet_xml(roster_rows({(2, 1500): "x"}), dimension="A1:F2"))
    message = str(refusal(data, world.users.town_a))
    assert "1500 列" in message and "超过上限" in message


def test_a_doctype_in_the_sheet_is_refused(world):
    rows = roster_rows({(3, 1): "&lol3;"})
    message = str(refusal(xlsx(sheet_xml(rows, prolog=BILLION_LAUGHS)), world.users.town_a))
    assert "xl/worksheets/sheet1.xml" in message and "DOCTYPE" in message


def test_a_doctype_hidden_behind_a_long_comment_is_still_refused(world):
    """Past the first 64 KB the prolog check does not look; the reader's own error is worded."""
    prolog = "<!--" + "x" * 70_000 + "-->" + BILLION_LAUGHS
    message = str(
        refusal(xlsx(sheet_xml(roster_rows({(3, 1): "&lol3;"}), prolog=prolog)), world.users.town_a)
    )
    assert "文件已损坏" in message


def test_an_overlong_cell_is_refused_by_sheet_row_and_column(world):
    data = xlsx(sheet_xml(roster_rows({(2, 4): "张" * (MAX_CELL_CHARS + 1)})))
    message = str(refusal(data, world.users.town_a))
    assert f"工作表“农户”第2行第4列的单元格有 {MAX_CELL_CHARS + 1} 个字符" in message


def test_too_many_shared_strings_are_refused(world):
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'count="900000000" uniqueCount="900000000"><si><t>a</t></si></sst>'
    )
    message = str(refusal(xlsx(sheet_xml(roster_rows()), shared_strings=shared), world.users.town_a))
    assert "900000000 个" in message


def test_a_csv_with_a_200000_character_field_is_refused(world):
    text = (
        ",".join(HEADER)
        + "\n"
        + ",".join(ROW)
        + "\n"
        + "通渭县,马营镇,东关村,李四,"
        + "1" * 200_000
        + ",一般贫困户\n"
    )
    message = str(refusal(text.encode(), world.users.town_a, filename="roster.csv"))
    assert "第3行" in message and f"{MAX_CELL_CHARS} 个字符" in message


def test_an_unclosed_quote_swallowing_the_file_is_refused(world):
    text = ",".join(HEADER) + '\n"' + "张三," * 60_000 + "\n"
    message = str(refusal(text.encode(), world.users.town_a, filename="roster.csv"))
    assert "第2行" in message and "引号" in message


@override_settings(SHUANGLIAN_IMPORT_READER_MEMORY_MB=256)
def test_the_memory_limit_is_a_setting(world):
    """1,000 columns × 20,000 rows is within every size limit, but the reader's dense range of
    20 million cells needs more than 256 MB."""
    message = str(refusal(far_cell(1000, 20000, declared=False), world.users.town_a))
    assert "内存超过 256 MB" in message


@override_settings(SHUANGLIAN_IMPORT_READER_SECONDS=0)
def test_a_reader_out_of_time_is_refused_with_that_reason(world):
    data = household_workbook([family(1)], member_sheet=False)
    assert "读取超过 0 秒仍未完成" in str(refusal(data, world.users.town_a))


def test_the_web_batch_fails_with_the_reason(client, world):
    client.force_login(world.users.town_a)
    name = "马营镇花名册.xlsx"
    response = client.post(
        reverse("imports:list"),
        {"kind": "households", "file": SimpleUploadedFile(name, far_cell(16384, 1048576, declared=False))},
    )
    batch = ImportBatch.objects.latest("pk")
    work()
    batch.refresh_from_db()
    assert response.status_code == 302
    assert batch.status == ImportBatch.Status.FAILED and batch.worker == ""
    assert f"无法读取“{name}”" in batch.message and "内存超过" in batch.message
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "失败" in page and "内存超过" in page and "重新检查" in page


def test_the_command_prints_the_reason_without_a_traceback(world, tmp_path, capsys):
    path = tmp_path / "hostile.csv"
    path.write_bytes((",".join(HEADER) + "\n" + "x" * 200_000 + "\n").encode())
    with pytest.raises(SystemExit) as exit_status:
        call_command("import_roster", str(path), "--user", world.users.town_a.username)
    assert exit_status.value.code == 1
    err = capsys.readouterr().err
    assert "无法读取“hostile.csv”" in err and "字符的上限" in err and "Traceback" not in err
    batch = ImportBatch.objects.latest("pk")
    assert batch.status == ImportBatch.Status.FAILED and batch.worker == ""
