"""Household roster import: the layouts real offices send, and all-or-nothing writes.

The workbooks are real .xlsx files written by openpyxl in the test, laid out the way
township rosters are: a title row merged across the sheet, 填报单位/填报日期 lines,
headers under their local names, merged 乡/村 cells, a hidden sheet.
"""

import datetime
import io

import pytest
from openpyxl import Workbook

from households.models import Household, Member
from imports.households import import_households
from imports.models import ImportBatch
from shuanglian.lib import idcard

HOUSEHOLD_HEADERS = [
    "序号",
    "县",
    "乡(镇)",
    "行政村",
    "村民小组",
    "户主姓名",
    "公民身份号码",
    "家庭人口数",
    "联系电话",
    "户属性",
    "主要致贫原因",
    "人均纯收入（元）",
]
MEMBER_HEADERS = [
    "户主身份证号",
    "姓名",
    "身份证号码",
    "与户主关系",
    "民族",
    "文化程度",
    "在校生状况",
    "健康状况",
    "劳动能力",
]
PERSON_HEADERS = [
    "户编号",
    "县",
    "乡镇",
    "村",
    "社",
    "姓名",
    "证件号码",
    "与户主关系",
    "民族",
    "健康状况",
    "贫困户属性",
    "主要致贫原因",
    "人均纯收入",
    "家庭人口",
]


def pid(serial: int, born=datetime.date(1970, 1, 1), area="621121") -> str:
    return idcard.make(area, born, serial)


def family(serial: int, head: str = "张三", *, village="东关村", size=3, **overrides):
    """One household as (household row values, [member rows])."""
    head_id = pid(serial * 10 + 1)
    members = [
        (head, head_id, "户主", "汉族", "初中", "非在校生", "健康", "普通劳动力"),
        (
            f"{head[0]}妻",
            pid(serial * 10 + 2, datetime.date(1972, 3, 3)),
            "配偶",
            "汉族",
            "小学",
            "非在校生",
            "长期慢性病",
            "普通劳动力",
        ),
        (
            f"{head[0]}儿",
            pid(serial * 10 + 3, datetime.date(2010, 6, 6)),
            "之子",
            "汉族",
            "小学",
            "小学",
            "健康",
            "无劳动力",
        ),
    ][:size]
    row = {
        "县": "通渭县",
        "乡": "马营镇",
        "村": village,
        "社": "3社",
        "户主": head,
        "id": head_id,
        "size": size,
        "phone": "13809310001",
        "category": "一般贫困户",
        "cause": "因病",
        "income": 3200,
    }
    row.update(overrides)
    return row, members


def household_workbook(families, *, member_sheet=True, hidden_decoy=True, merge_location=True) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "建档立卡户"
    sheet.append(["通渭县马营镇建档立卡贫困户花名册"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HOUSEHOLD_HEADERS))
    sheet.append(
        ["填报单位：马营镇人民政府", None, None, None, None, None, None, None, "填报日期：2024年3月"]
    )
    sheet.append(HOUSEHOLD_HEADERS)
    first = sheet.max_row + 1
    for index, (row, _members) in enumerate(families, start=1):
        sheet.append(
            [
                index,
                row["县"],
                row["乡"],
                row["村"],
                row["社"],
                row["户主"],
                row["id"],
                row["size"],
                row["phone"],
                row["category"],
                row["cause"],
                row["income"],
            ]
        )
    if merge_location and len(families) > 1 and len({r["村"] for r, _m in families}) == 1:
        # 县 and 乡 merged down the whole table, the way offices format them.
        for column in (2, 3):
            for r in range(first + 1, sheet.max_row + 1):
                sheet.cell(r, column).value = None
            sheet.merge_cells(start_row=first, start_column=column, end_row=sheet.max_row, end_column=column)
    sheet.append([])
    sheet.append([])
    if member_sheet:
        members = book.create_sheet("家庭成员")
        members.append(["家庭成员信息表"])
        members.append(MEMBER_HEADERS)
        for row, people in families:
            for person in people:
                members.append([row["id"], *person[:2], *person[2:]])
    if hidden_decoy:
        decoy = book.create_sheet("旧表")
        decoy.append(HOUSEHOLD_HEADERS)
        decoy.append([1, "通渭县", "马营镇", "不存在村", "1社", "旧户主", "123", 1, "", "其他", "", ""])
        decoy.sheet_state = "hidden"
    return save(book)


def person_workbook(families, *, blank_between=True, merge_numbers=False) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(["马营镇 农户花名册（一人一行）"])
    sheet.append(["填报单位：马营镇", None, None, "填报日期：2024-03-01"])
    sheet.append(PERSON_HEADERS)
    for number, (row, people) in enumerate(families, start=1):
        appended = []
        for person in people:
            is_head = person[2] == "户主"
            sheet.append(
                [
                    f"H{number:03d}",
                    row["县"] if is_head else None,
                    row["乡"] if is_head else None,
                    row["村"] if is_head else None,
                    row["社"] if is_head else None,
                    person[0],
                    person[1],
                    person[2],
                    person[3],
                    person[6],
                    row["category"] if is_head else None,
                    row["cause"] if is_head else None,
                    row["income"] if is_head else None,
                    row["size"] if is_head else None,
                ]
            )
            appended.append(sheet.max_row)
        if merge_numbers and len(appended) > 1:
            for r in appended[1:]:
                sheet.cell(r, 1).value = None
            sheet.merge_cells(start_row=appended[0], start_column=1, end_row=appended[-1], end_column=1)
        if blank_between:
            sheet.append([])
    return save(book)


def save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot():
    return (
        sorted(
            Household.objects.values_list(
                "head_id_number", "head_name", "village_id", "category", "income_per_head"
            )
        ),
        sorted(
            Member.objects.values_list("id_number", "name", "household__head_id_number", "relation", "health")
        ),
    )


def run(data, user, **options):
    return import_households(data, user=user, filename=options.pop("filename", "roster.xlsx"), **options)


def test_household_and_member_sheets_with_title_rows_merged_cells_and_a_hidden_sheet(world):
    families = [family(1, "张三"), family(2, "李四", village="东关村民委员会", size=2)]
    result = run(household_workbook(families), world.users.town_a)
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["households_new"] == 2 and result.counts["members_new"] == 5
    household = Household.objects.get(head_id_number=families[0][0]["id"])
    assert household.village_id == world.village_a.code
    assert household.group == "3社" and household.main_cause == "因病" and household.income_per_head == 3200
    assert household.phone == "13809310001"
    assert household.members.count() == 3
    son = household.members.get(relation="之子")
    assert son.sex == "M" and son.birth_date == datetime.date(2010, 6, 6) and son.schooling == "小学"
    assert household.members.get(relation="配偶").health == "长期慢性病"


def test_new_rows_get_list_causes_timestamps_and_the_model_defaults(world):
    """The bulk write sends plain rows (COPY on PostgreSQL): JSON, dates and left-out fields must land
    as the ORM's."""
    head_id = pid(11)
    text = (
        "县,乡(镇),村,户主姓名,身份证号码,贫困户属性,其他致贫原因\n"
        f"通渭县,马营镇,东关村,张三,{head_id},一般贫困户,因病、缺资金\n"
    )
    result = run(text.encode(), world.users.town_a, filename="roster.csv")
    assert result.ok, [str(e) for e in result.errors]
    household = Household.objects.get(head_id_number=head_id)
    assert household.other_causes == ["因病", "缺资金"] and household.status == "在册"
    assert (
        household.created_at is not None and household.updated_at is not None and not household.working_away
    )
    assert result.created_household_ids == [household.pk]
    head = household.members.get()
    assert (head.name, head.relation, head.sex, head.birth_date) == (
        "张三",
        "户主",
        "M",
        datetime.date(1970, 1, 1),
    )
    assert (head.ethnicity, head.schooling, head.health) == ("汉族", "非在校生", "健康")
    assert head.has_medical_insurance is True and head.has_pension_insurance is False


def test_reimporting_the_same_file_changes_nothing(world):
    data = household_workbook([family(1), family(2, "李四")])
    assert run(data, world.users.town_a).ok
    before = snapshot()
    result = run(data, world.users.town_a)
    assert result.ok and result.applied
    assert result.counts == {
        "households_new": 0,
        "households_changed": 0,
        "households_unchanged": 2,
        "members_new": 0,
        "members_changed": 0,
        "members_unchanged": 6,
    }
    assert result.changes == [] and result.missing == []
    assert snapshot() == before


def test_a_corrected_file_updates_and_lists_each_change_and_reports_missing_people(world):
    assert run(household_workbook([family(1), family(2, "李四")]), world.users.town_a).ok
    row, members = family(1, income=3500)
    row["size"] = 2
    corrected = household_workbook([(row, members[:2]), family(2, "李四")])
    result = run(corrected, world.users.town_a, dry_run=True)
    assert result.ok and not result.applied
    assert result.counts["households_changed"] == 1 and result.counts["households_unchanged"] == 1
    assert any("人均纯收入" in change and "3200.00 → 3500.00" in change for change in result.changes)
    assert len(result.missing) == 1 and "张儿" in result.missing[0] and "未删除" in result.missing[0]
    assert Household.objects.get(head_id_number=row["id"]).income_per_head == 3200  # dry run wrote nothing

    versions = dict(Household.objects.values_list("head_id_number", "version"))
    result = run(corrected, world.users.town_a)
    assert result.applied
    assert Household.objects.get(head_id_number=row["id"]).income_per_head == 3500
    # An edit form opened before the import is now stale; the unchanged household's is not.
    assert dict(Household.objects.values_list("head_id_number", "version")) == {
        **versions,
        row["id"]: versions[row["id"]] + 1,
    }
    assert Member.objects.filter(id_number=members[2][1]).exists()  # reported, never deleted


def test_one_row_per_person_with_blank_lines_and_merged_household_numbers(world):
    families = [family(1, "张三"), family(2, "李四", size=2), family(3, "王五", size=1)]
    for merge in (False, True):
        Household.objects.filter(head_id_number__in=[f[0]["id"] for f in families]).delete()
        result = run(person_workbook(families, merge_numbers=merge), world.users.town_a)
        assert result.ok, [str(e) for e in result.errors]
        assert result.counts["households_new"] == 3 and result.counts["members_new"] == 6
    household = Household.objects.get(head_id_number=families[1][0]["id"])
    assert household.head_name == "李四" and household.village_id == world.village_a.code
    assert household.members.count() == 2
    again = run(person_workbook(families), world.users.town_a)
    assert again.counts["households_unchanged"] == 3 and again.counts["members_unchanged"] == 6


def test_harmless_differences_are_normalised(world):
    row, members = family(1, size=1)
    head_id = row["id"]
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in head_id[:6]) + head_id[6:]
    row.update(id=f"\u3000{full_width}\u200b ", 户主="张\u3000三")
    members = [("张 三", head_id.lower(), *members[0][2:])]
    result = run(household_workbook([(row, members)]), world.users.town_a)
    assert result.ok, [str(e) for e in result.errors]
    household = Household.objects.get(head_id_number=head_id)
    assert household.head_name == "张三"
    assert household.members.get().id_number == head_id


def test_lowercase_x_is_upper_cased(world):
    head_id = next(pid(n) for n in range(100, 400) if pid(n).endswith("X"))
    row, _members = family(1, size=1)
    row["id"] = head_id.lower()
    result = run(household_workbook([(row, [])], member_sheet=False), world.users.town_a)
    assert result.ok, [str(e) for e in result.errors]
    assert Household.objects.filter(head_id_number=head_id).exists()
    assert Member.objects.get(id_number=head_id).relation == "户主"


def test_the_import_is_scoped_to_the_importing_user(world):
    families = [family(1, "张三", 乡="鸡川镇", village="鸡川村")]
    before = snapshot()
    result = run(household_workbook(families), world.users.town_a)
    assert not result.ok
    assert "鸡川镇鸡川村不在您的管辖范围内" in str(result.errors[0])
    assert snapshot() == before
    # The county office's scope includes 鸡川镇, but its role may not change households.
    assert run(household_workbook(families), world.users.admin).ok


def test_batch_visibility_follows_the_recorded_scope(world):
    from imports import services

    batch = services.create_batch(data=b"x", filename="a.csv", kind="households", user=world.users.town_a)
    assert batch.scope_code == "621121101"
    assert ImportBatch.objects.visible_to(world.users.town_a).filter(pk=batch.pk).exists()
    assert ImportBatch.objects.visible_to(world.users.county_a).filter(pk=batch.pk).exists()
    assert not ImportBatch.objects.visible_to(world.users.town_b).filter(pk=batch.pk).exists()
    assert not ImportBatch.objects.visible_to(world.users.unit_a).filter(pk=batch.pk).exists()
    with pytest.raises(services.NotAllowed):
        services.create_batch(data=b"x", filename="a.csv", kind="households", user=world.users.county_a)
