"""One-row-per-person rosters without 户编号 (the usual 建档立卡 export): the layout is told
from the columns, and people are grouped by 户主身份证号, else from each 户主 row to the next.
Plus the error report: in row order, one error per cause."""

import pytest
from openpyxl import Workbook

from households.models import Household
from imports.households import import_households
from imports.reader import FileRefused
from tests.test_import_households import family, pid, save, snapshot

# The 建档立卡 export: household fields only on the 户主 row, 户主姓名 on every row.
EXPORT_HEADERS = [
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


def export_workbook(families, *, head_id_column=False, headers=EXPORT_HEADERS, shuffle=None) -> bytes:
    """The export as offices send it: a title line, then one row per person, no 户编号."""
    book = Workbook()
    sheet = book.active
    sheet.title = "建档立卡人口"
    sheet.append(["通渭县马营镇建档立卡贫困人口信息"])
    columns = list(headers) + (["户主身份证号"] if head_id_column else [])
    sheet.append(columns)
    rows = []
    for row, people in families:
        for person in people:
            is_head = person[2] == "户主"
            values = {
                "县": row["县"],
                "乡镇": row["乡"],
                "行政村": row["村"],
                "村民小组": row["社"],
                "户主姓名": row["户主"],
                "姓名": person[0],
                "身份证号": person[1],
                "与户主关系": person[2],
                "民族": person[3],
                "健康状况": person[6],
                "贫困户属性": row["category"] if is_head else None,
                "主要致贫原因": row["cause"] if is_head else None,
                "人均纯收入": row["income"] if is_head else None,
                "家庭人口数": row["size"] if is_head else None,
                "户主身份证号": row["id"],
            }
            rows.append([values.get(column) for column in columns])
    if shuffle:
        rows = shuffle(rows)
    for number, values in enumerate(rows, start=1):
        sheet.append([number, *values[1:]])
    return save(book)


def run(data, user, **options):
    return import_households(data, user=user, filename="建档立卡.xlsx", **options)


@pytest.mark.parametrize("head_id_column", [False, True], ids=["from each head", "by head ID column"])
def test_a_person_row_export_without_household_numbers_imports(world, head_id_column):
    families = [family(1, "张三"), family(2, "李四", size=2), family(3, "王五", size=1)]
    result = run(export_workbook(families, head_id_column=head_id_column), world.users.town_a)
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["households_new"] == 3 and result.counts["members_new"] == 6
    household = Household.objects.get(head_id_number=families[1][0]["id"])
    assert household.head_name == "李四" and household.village_id == world.village_a.code
    assert household.category == "一般贫困户" and household.income_per_head == 3200
    assert sorted(household.members.values_list("relation", flat=True)) == ["户主", "配偶"]
    again = run(export_workbook(families, head_id_column=head_id_column), world.users.town_a)
    assert again.counts["households_unchanged"] == 3 and again.counts["members_unchanged"] == 6


def test_grouping_by_the_head_id_column_does_not_need_the_head_first(world):
    """With 户主身份证号 on every row, a household's members may come before its 户主."""
    families = [family(1, "张三"), family(2, "李四")]
    result = run(
        export_workbook(families, head_id_column=True, shuffle=lambda rows: rows[::-1]), world.users.town_a
    )
    assert result.ok, [str(e) for e in result.errors]
    assert Household.objects.get(head_id_number=families[0][0]["id"]).members.count() == 3


def test_the_head_row_may_leave_its_head_id_cell_blank(world):
    families = [family(1, "张三"), family(2, "李四", size=2)]

    def blank_for_heads(rows):
        for values in rows:
            if values[8] == "户主":
                values[-1] = None
            else:
                values[-1] = values[-1].lower()
        return rows

    result = run(export_workbook(families, head_id_column=True, shuffle=blank_for_heads), world.users.town_a)
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["households_new"] == 2 and result.counts["members_new"] == 5


def test_a_head_whose_head_id_cell_is_not_his_own_id(world):
    row, members = family(1, "张三")
    other = pid(99)

    def wrong(rows):
        rows[0][-1] = other  # the head's row names another head
        return rows

    data = export_workbook([(row, members)], head_id_column=True, shuffle=wrong)
    before = snapshot()
    result = run(data, world.users.town_a)
    messages = [str(e) for e in result.errors]
    assert not result.ok and snapshot() == before
    assert len(messages) == 1, messages
    assert (
        "第3行“户主身份证号”列" in messages[0]
        and "户主本人这一行的户主身份证号应与其身份证号码" in messages[0]
    )


def test_rows_before_the_first_head_name_the_missing_columns(world):
    """Without 户编号 and 户主身份证号, a member row before any 户主 belongs to no household: one error
    for it, naming the columns that would have placed it."""
    families = [family(1, "张三"), family(2, "李四")]
    data = export_workbook(families, shuffle=lambda rows: rows[1:2] + rows[:1] + rows[2:])
    before = snapshot()
    result = run(data, world.users.town_a)
    messages = [str(e) for e in result.errors]
    assert not result.ok and snapshot() == before
    assert len(messages) == 1, messages
    assert "第3行" in messages[0] and "没有“户编号”列，也没有“户主身份证号”列" in messages[0]


def test_a_person_file_without_the_relation_column_is_ambiguous_and_says_so(world):
    headers = [h for h in EXPORT_HEADERS if h not in ("与户主关系", "户主姓名")]
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    sheet.append(
        [
            1,
            "通渭县",
            "马营镇",
            "东关村",
            "3社",
            "张三",
            pid(11),
            "汉族",
            "健康",
            "一般贫困户",
            "因病",
            3200,
            1,
        ]
    )
    with pytest.raises(FileRefused) as refusal:
        run(save(book), world.users.town_a)
    message = str(refusal.value)
    assert "没有“与户主关系”列，也没有“户主姓名”列" in message and "无法判断每行是一人还是一户" in message


def test_the_export_with_head_names_but_no_relation_is_not_read_as_23_households(world):
    """The export with its 与户主关系 column dropped and 户主姓名 kept would read as a household per row;
    with 姓名 beside 户主姓名 it is a person per row, and the missing column is named."""
    headers = [h for h in EXPORT_HEADERS if h != "与户主关系"]
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    sheet.append(
        [
            1,
            "通渭县",
            "马营镇",
            "东关村",
            "3社",
            "张三",
            "张三",
            pid(11),
            "汉族",
            "健康",
            "一般贫困户",
            "因病",
            3200,
            2,
        ]
    )
    sheet.append(
        [
            2,
            "通渭县",
            "马营镇",
            "东关村",
            "3社",
            "张三",
            "张妻",
            pid(12),
            "汉族",
            "健康",
            None,
            None,
            None,
            None,
        ]
    )
    before = snapshot()
    result = run(save(book), world.users.town_a)
    messages = [str(e) for e in result.errors]
    assert not result.ok and snapshot() == before
    assert not any("贫困户属性" in m for m in messages), messages
    assert len(messages) == 1 and "缺少必填列“与户主关系”" in messages[0], messages


# ---------------------------------------------------------------- the error report


def test_errors_come_in_row_order_whatever_found_them(world):
    """A village unknown on row 4 (found after reading) comes before a category refused on row 6."""
    families = [family(1, "张三", village="不存在村"), family(2, "李四", category="特困户")]
    result = run(export_workbook(families), world.users.town_a)
    rows = [(e.sheet, e.row) for e in result.errors]
    assert rows == sorted(rows) and len(rows) == 2, [str(e) for e in result.errors]
    assert "不存在村" in str(result.errors[0]) and "特困户" in str(result.errors[1])


@pytest.mark.parametrize("layout", ["person rows", "member sheet"])
def test_a_refused_member_does_not_also_raise_the_size(world, layout):
    from tests.test_import_households import household_workbook

    row, members = family(1, "张三", size=2)
    bad = members[1][1][:17] + ("0" if members[1][1][17] != "0" else "1")
    members = [members[0], (members[1][0], bad, *members[1][2:])]
    data = (
        export_workbook([(row, members)]) if layout == "person rows" else household_workbook([(row, members)])
    )
    result = run(data, world.users.town_a)
    messages = [str(e) for e in result.errors]
    assert len(messages) == 1 and "校验位错误" in messages[0], messages


def test_a_member_row_naming_an_unknown_head_does_not_also_raise_the_size(world):
    from tests.test_import_households import household_workbook

    row, members = family(1, "张三", size=2)
    data = household_workbook(
        [(row, members[:1]), ({**row, "id": pid(77)}, members[1:2])], merge_location=False
    )
    # The second family's household row is dropped: its member names a head the 户表 lacks.
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    book["建档立卡户"].delete_rows(5)
    result = run(save(book), world.users.town_a)
    messages = [str(e) for e in result.errors]
    assert len(messages) == 1 and "户表中没有这个户主身份证号" in messages[0], messages


# ---------------------------------------------------------------- the import page


def test_the_page_lists_both_layouts_and_offers_a_template_for_each(client, world):
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    client.force_login(world.users.town_a)
    page = client.get(reverse("imports:list")).content.decode()
    assert "一户一行（户表 + 成员表）" in page and "一人一行（建档立卡导出的格式）" in page
    assert "<strong>与户主关系</strong>" in page and "户主身份证号" in page
    persons_url = reverse("imports:template", args=["persons"])
    assert persons_url in page and reverse("imports:template", args=["households"]) in page
    response = client.get(persons_url)
    assert (
        response.status_code == 200
        and "%E4%B8%80%E4%BA%BA%E4%B8%80%E8%A1%8C" in response["Content-Disposition"]
    )
    assert client.get(reverse("imports:template", args=["nothing"])).status_code == 404

    # The template filled in the way the export comes: head first, no 户编号 → imports.
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["花名册"]
    headers = [c.value for c in sheet[1]]
    assert "户编号" not in headers and headers[5:8] == ["姓名", "身份证号码", "与户主关系"]
    row, members = family(1, "张三", size=2)
    for name, id_number, relation, *_rest in members:
        values = {
            "县": "通渭县",
            "乡(镇)": "马营镇",
            "村": "东关村",
            "姓名": name,
            "身份证号码": id_number,
            "与户主关系": relation,
        }
        if relation == "户主":
            values.update({"贫困户属性": "低保户", "家庭人口": 2})
        sheet.append([values.get(header) for header in headers])
    result = run(save(book), world.users.town_a)
    assert result.ok, [str(e) for e in result.errors]
    household = Household.objects.get(head_id_number=row["id"])
    assert household.category == "低保户" and household.members.count() == 2
    # Non-importers see no template list (a unit liaison imports cadres only).
    client.force_login(world.users.unit_a)
    assert "一人一行" not in client.get(reverse("imports:list")).content.decode()


def test_a_member_naming_another_head_id_is_one_error(world):
    """A mistyped 户主身份证号 on a member's row: its rows make a household without a 户主 (one error);
    the household it belongs to is not also told its size disagrees."""
    row, members = family(1, "张三", size=3)
    other = pid(99)

    def mistyped(rows):
        rows[2][-1] = other
        return rows

    result = run(export_workbook([(row, members)], head_id_column=True, shuffle=mistyped), world.users.town_a)
    messages = [str(e) for e in result.errors]
    assert (
        len(messages) == 1 and "第5行" in messages[0] and "应有且只有一个“户主”行（现有 0 个）" in messages[0]
    ), messages
