"""Every kind of bad input gets a Chinese message naming sheet, row, column and value, and
the database is left exactly as it was."""

import datetime
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from imports.households import import_households
from imports.reader import MAX_UNCOMPRESSED_BYTES, FileRefused
from shuanglian.lib import idcard
from tests import factories as f
from tests.test_import_households import (
    HOUSEHOLD_HEADERS,
    family,
    household_workbook,
    person_workbook,
    pid,
    save,
    snapshot,
)


def refused(data, user, **options):
    """Import, expect row errors, return their texts, and check nothing was written."""
    before = snapshot()
    result = import_households(data, user=user, filename=options.pop("filename", "roster.xlsx"), **options)
    assert not result.ok and not result.applied
    assert snapshot() == before
    return [str(error) for error in result.errors]


def refused_file(data, user, filename="roster.xlsx"):
    before = snapshot()
    with pytest.raises(FileRefused) as error:
        import_households(data, user=user, filename=filename)
    assert snapshot() == before
    return str(error.value)


def with_head_id(value, **overrides):
    row, _members = family(1, size=1, **overrides)
    row["id"] = value
    return household_workbook([(row, []), family(2, "李四")], member_sheet=False)


def test_bad_checksum(world):
    good = pid(11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    [message] = refused(with_head_id(bad), world.users.town_a)
    assert message == f"工作表“建档立卡户”第4行“身份证号码”列（{bad}）：身份证号码“{bad}”校验位错误，请核对"


@pytest.mark.parametrize("layout", ["household sheet", "one row per person"])
def test_a_row_with_a_bad_head_id_and_an_unknown_village_gets_both_errors(world, layout):
    """One round of corrections fixes the row: its village is checked although its ID was refused."""
    good = pid(11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    row, members = family(1, village="不存在村")
    row["id"] = bad
    members = [(members[0][0], bad, *members[0][2:]), *members[1:]]
    data = (
        household_workbook([(row, []), family(2, "李四")], member_sheet=False)
        if layout == "household sheet"
        else person_workbook([(row, members), family(2, "李四")])
    )
    messages = refused(data, world.users.town_a)
    assert any("校验位错误" in message for message in messages)
    assert any("没有村“不存在村”" in message for message in messages)


def test_wrong_length(world):
    [message] = refused(with_head_id("62112119700101123"), world.users.town_a)
    assert "第4行“身份证号码”列" in message and "应为18位（现为17位）" in message


def test_birth_date_in_the_future(world):
    future = idcard.make("621121", datetime.date.today() + datetime.timedelta(days=400), 11)
    [message] = refused(with_head_id(future), world.users.town_a)
    assert "出生日期在未来" in message and future in message


@pytest.mark.parametrize("value", [6.21121197001010e17, 621121197001010011], ids=["float", "int"])
def test_ids_stored_as_numbers_are_refused_not_repaired(world, value):
    [message] = refused(with_head_id(value), world.users.town_a)
    assert "第4行“身份证号码”列" in message
    assert "被 Excel 存成了数字" in message and "设置为“文本”格式" in message and "不会自动修复" in message


def test_scientific_notation_in_a_csv_is_refused(world):
    row, _members = family(1, size=1)
    text = "县,乡镇,村,户主姓名,身份证号码,户属性\n通渭县,马营镇,东关村,张三,6.21121E+17,一般贫困户\n"
    [message] = refused(text.encode(), world.users.town_a, filename="a.csv")
    assert "工作表“a”第2行“身份证号码”列（6.21121E+17）" in message and "文本" in message


def test_the_same_person_twice_in_the_file(world):
    one, members = family(1)
    two, other = family(2, "李四")
    other[1] = (other[1][0], members[2][1], *other[1][2:])  # 李四's wife has 张三's son's ID
    messages = refused(household_workbook([(one, members), (two, other)]), world.users.town_a)
    assert any(
        "工作表“家庭成员”第7行“身份证号码”列" in m
        and "同一人在文件中出现了两次（另见工作表“家庭成员”第5行）" in m
        for m in messages
    ), messages


def test_the_same_head_twice_in_one_row_per_person_file(world):
    one, members = family(1)
    messages = refused(person_workbook([(one, members), (one, members)]), world.users.town_a)
    assert any("同一户主在第4行已出现过" in m for m in messages), messages


def test_a_household_number_used_again_further_down(world):
    """Households are read one at a time, so a 户编号 must not come back after another household."""
    data = person_workbook([family(1, "张三"), family(2, "李四"), family(3, "王五")])
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    for row in sheet.iter_rows(min_row=4):
        if row[0].value == "H003":
            row[0].value = "H001"
    messages = refused(save(book), world.users.town_a)
    assert any(
        "第12行" in m and "户编号“H001”已用于第4行开始的家庭" in m and "同一户的成员应排在一起" in m
        for m in messages
    ), messages
    assert sum("户编号" in m for m in messages) == 1, messages


def test_a_person_already_in_another_household(world):
    existing = world.household_a.members.exclude(relation="户主").first()
    row, members = family(1)
    members[2] = (members[2][0], existing.id_number, *members[2][2:])
    messages = refused(household_workbook([(row, members)]), world.users.town_a)
    assert any("此人已是王建国户的成员" in m and "一人只能属于一户" in m for m in messages), messages


def test_a_person_in_a_household_outside_the_scope_is_not_described(world):
    outsider = world.household_b.members.first()
    row, members = family(1)
    members[1] = (members[1][0], outsider.id_number, *members[1][2:])
    messages = refused(household_workbook([(row, members)]), world.users.town_a)
    assert any("此身份证号不能由您登记，已提请县双联办核实" in m for m in messages), messages
    assert not any("妥有福" in m or "其他农户" in m for m in messages), (
        messages
    )  # nothing about the register outside


def test_an_unknown_village_suggests_close_names(world):
    f.region("621121101202", "东官庄村民委员会", "village")
    [message] = refused(household_workbook([family(1, village="东关庄村")]), world.users.town_a)
    assert message.startswith("工作表“建档立卡户”第4行“村”列（东关庄村）：通渭县马营镇没有村“东关庄村”")
    assert "是否是：" in message and "东官庄村" in message


def test_an_ambiguous_village_name(world):
    f.region("621121101203", "东关村", "village")
    [message] = refused(household_workbook([family(1, village="东关村")]), world.users.town_a)
    assert "马营镇有多个村叫“东关村”" in message and "621121101201" in message


def test_unknown_township_and_county(world):
    [message] = refused(household_workbook([family(1, 乡="马营乡")]), world.users.town_a)
    assert "“乡(镇)”列（马营乡）：通渭县没有乡(镇)“马营乡”，是否是：马营镇？" in message
    [message] = refused(household_workbook([family(1, 县="通魏县")]), world.users.town_a)
    assert "“县”列（通魏县）：找不到县“通魏县”，是否是：通渭县？" in message


def test_a_village_outside_the_scope(world):
    [message] = refused(
        household_workbook([family(1, 县="东乡族自治县", 乡="达板镇", village="达板村")]), world.users.town_a
    )
    assert "达板镇达板村不在您的管辖范围内" in message


def test_a_household_registered_outside_the_scope(world):
    row, _members = family(1, size=1)
    row["id"] = world.household_b.head_id_number
    messages = refused(household_workbook([(row, [])], member_sheet=False), world.users.town_a)
    assert any("此身份证号不能由您登记，已提请县双联办核实" in m for m in messages), messages
    assert not any("管辖范围以外" in m for m in messages), messages  # see tests/test_import_register_probe.py


def test_a_missing_required_column(world):
    book = Workbook()
    sheet = book.active
    sheet.append(["县", "乡镇", "户主姓名", "身份证号码", "户属性"])
    sheet.append(["通渭县", "马营镇", "张三", pid(11), "一般贫困户"])
    [message] = refused(save(book), world.users.town_a)
    assert (
        "缺少必填列“村”（可用的列名：村、行政村、村名、村名称、村社区）" in message
        and "工作表“Sheet”" in message
    )


def test_a_value_outside_a_vocabulary_lists_the_allowed_values(world):
    [message] = refused(
        household_workbook([family(1, category="特困户")], member_sheet=False), world.users.town_a
    )
    assert (
        "第4行“贫困户属性”列（特困户）：不是允许的值，可填：一般贫困户、低保户、五保户、低保贫困户、一般农户"
        in message
    )


def test_the_main_cause_repeated_under_other_causes_is_refused(world):
    """As on the household edit form: the detail page would read 「因病（其他：因病、缺资金）」."""
    text = (
        "县,乡(镇),村,户主姓名,身份证号码,贫困户属性,主要致贫原因,其他致贫原因\n"
        f"通渭县,马营镇,东关村,张三,{pid(11)},一般贫困户,因病,缺资金、因病\n"
    )
    [message] = refused(text.encode(), world.users.town_a, filename="roster.csv")
    assert message == (
        "工作表“roster”第2行“其他致贫原因”列（缺资金、因病）：「因病」已是主要致贫原因，不要在其他致贫原因中重复填写"
    )


def test_a_member_relation_outside_the_vocabulary(world):
    row, members = family(1)
    members[1] = (*members[1][:2], "老婆", *members[1][3:])
    messages = refused(household_workbook([(row, members)]), world.users.town_a)
    assert any(
        "工作表“家庭成员”第4行“与户主关系”列（老婆）：不是允许的值，可填：户主、配偶" in m for m in messages
    ), messages


def test_a_declared_size_that_disagrees_with_the_members(world):
    row, members = family(1)
    row["size"] = 4
    [message] = refused(household_workbook([(row, members)]), world.users.town_a)
    assert "“家庭人口”列（4）：家庭人口填的是 4 人，但名册中列出了 3 人" in message


def test_a_file_that_is_not_a_spreadsheet(world):
    assert refused_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", world.users.town_a, "roster.xlsx") == (
        "文件不是电子表格（.xlsx、.xls 或 .csv），无法导入"
    )
    word = io.BytesIO()
    with zipfile.ZipFile(word, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "不是 Excel 工作簿" in refused_file(word.getvalue(), world.users.town_a, "roster.xlsx")


def test_a_text_file_without_a_roster_header(world):
    text = "这是一份说明\n没有表格\n".encode()
    message = refused_file(text, world.users.town_a, "notes.xlsx")
    assert "没有找到名册表头" in message
    assert "文件名是 .xlsx，内容却是纯文本而不是 Excel 工作簿" in message  # a text file renamed, said so
    assert "纯文本" not in refused_file(text, world.users.town_a, "notes.csv")
    assert "纯文本" not in refused_file(save(Workbook()), world.users.town_a, "empty.xlsx")


def test_an_encrypted_workbook(world):
    # What Excel writes for a password-protected .xlsx: an OLE container with an EncryptedPackage stream.
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "EncryptedPackage".encode("utf-16-le")
        + b"\x00" * 512
    )
    assert (
        refused_file(ole, world.users.town_a) == "工作簿设置了密码（已加密），请在 Excel 中取消密码后再导入"
    )


def test_an_empty_sheet(world):
    book = Workbook()
    assert "没有找到名册表头" in refused_file(save(book), world.users.town_a)
    book.active.append(HOUSEHOLD_HEADERS)
    assert refused_file(save(book), world.users.town_a) == "工作表“Sheet”在表头下面没有数据"


def test_only_hidden_sheets_hold_a_roster(world):
    book = Workbook()
    book.active.append(["说明：请填写第二张表"])
    hidden = book.create_sheet("名册")
    hidden.append(HOUSEHOLD_HEADERS)
    hidden.sheet_state = "hidden"
    assert "没有找到名册表头" in refused_file(save(book), world.users.town_a)


def test_a_zip_bomb_is_refused_from_its_declared_sizes(world):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (64 * 1024 * 1024))  # 64 MB of zeros → ~64 KB
    data = bomb.getvalue()
    assert len(data) < 200 * 1024
    message = refused_file(data, world.users.town_a)
    assert "疑似压缩炸弹" in message and "sheet1.xml" in message


def test_an_oversized_workbook_is_refused_before_inflating(world, monkeypatch):
    # Real sizes would make the test slow; the check reads only the declared sizes.
    import imports.reader as reader

    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED_BYTES", 1024)
    message = refused_file(household_workbook([family(1)]), world.users.town_a)
    assert "超过 0 MB 的上限" in message and "拆分" in message
    assert MAX_UNCOMPRESSED_BYTES == 256 * 1024 * 1024


def test_errors_are_all_or_nothing_even_with_valid_rows(world):
    families = [family(n, f"户主{n}") for n in range(1, 6)]
    families[3][0]["category"] = "贫困"
    refused(household_workbook(families), world.users.town_a)
