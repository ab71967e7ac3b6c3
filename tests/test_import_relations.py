"""Cadre, link and pairing rosters: the same rules as the pages, all-or-nothing, idempotent, scoped."""

import datetime
import io

from openpyxl import Workbook, load_workbook

from households.models import Household
from imports.cadres import import_cadres
from imports.links import import_links
from imports.pairings import import_pairings
from imports.workbooks import template_bytes
from pairing.models import Cadre, Pairing, RankLimit, VillageLink
from tests import factories as f
from tests.test_import_formats import run_command

START = datetime.date(2026, 3, 1)


def workbook(headers, rows, *, title="名册", preamble=True) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    if preamble:
        sheet.append([f"{title}（填报单位：通渭县）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    hidden = book.create_sheet("旧表")
    hidden.append(headers)
    hidden.append(["不该读到"] * len(headers))
    hidden.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot():
    return (
        sorted(Cadre.objects.values_list("unit_id", "name", "phone", "post", "rank", "category", "status")),
        sorted(VillageLink.objects.values_list("unit_id", "village_id", "started_on", "ended_on")),
        sorted(Pairing.objects.values_list("cadre_id", "household_id", "role", "started_on", "ended_on")),
    )


CADRE_HEADERS = ["序号", "单位名称", "姓名", "手机", "职务", "职级", "人员类别", "状态"]


def cadre_rows():
    return [
        [1, "通渭县农业农村局", "李文华", "13809310002", "副局长", "科级", "公务员", "在岗"],
        [2, "通渭县农业农村局", "陈 晓梅", "１３８０９３１０００３", "科员", "一般", "参公人员", None],
    ]


# ---------------------------------------------------------------- cadres


def test_cadres_are_matched_in_their_unit_and_reimport_changes_nothing(world):
    result = import_cadres(workbook(CADRE_HEADERS, cadre_rows()), user=world.users.unit_a)
    assert result.ok and result.applied, result.errors
    assert result.counts == {"new": 1, "changed": 1, "unchanged": 0}
    new = Cadre.objects.get(name="陈晓梅")  # spaces dropped, full-width digits folded
    assert (
        new.unit == world.unit_a
        and new.phone == "13809310003"
        and new.category == "参公人员"
        and new.status == "在岗"
    )
    world.cadre_a.refresh_from_db()
    assert world.cadre_a.post == "副局长" and world.cadre_a.rank == "科级"
    assert any("职务" in line and "副局长" in line for line in result.changes)

    again = import_cadres(workbook(CADRE_HEADERS, cadre_rows()), user=world.users.unit_a)
    assert again.ok and again.counts == {"new": 0, "changed": 0, "unchanged": 2}
    assert again.summary() == "干部：新增 0，变更 0，未变 2"


def test_cadre_errors_name_the_cell_and_nothing_is_written(world):
    rows = cadre_rows() + [
        [3, "通渭县农业农村局", "王五", "", "", "处级", "公务员", "在岗"],
        [4, "东乡县财政局", "马六", "", "", "一般", "公务员", "在岗"],  # another county's unit
    ]
    before = snapshot()
    result = import_cadres(workbook(CADRE_HEADERS, rows), user=world.users.unit_a)
    assert not result.ok and not result.applied
    texts = [str(e) for e in result.errors]
    assert any(
        t.startswith("工作表“名册”第5行“职级”列（处级）") and "县级、科级、一般" in t for t in texts
    ), texts
    assert any("第6行“单位”列（东乡县财政局）" in t and "找不到单位" in t for t in texts), texts
    assert snapshot() == before


def test_a_cadre_with_households_cannot_leave_through_the_import(world):
    rows = [[1, "通渭县农业农村局", "李文华", "", "", "一般", "公务员", "退休"]]
    before = snapshot()
    result = import_cadres(workbook(CADRE_HEADERS, rows), user=world.users.unit_a)
    assert not result.ok
    assert "李文华 还有 1 户联系户，请先办理交接" in str(result.errors[0]) and "“在岗状态”列" in str(
        result.errors[0]
    )
    assert snapshot() == before


def test_a_missing_cadre_column_lists_its_aliases(world):
    data = workbook(["单位", "姓名", "职级"], [["通渭县农业农村局", "李文华", "一般"]])
    result = import_cadres(data, user=world.users.unit_a)
    assert (
        not result.ok and "缺少必填列“人员类别”" in str(result.errors[0]) and "类别" in str(result.errors[0])
    )


# ---------------------------------------------------------------- links

LINK_HEADERS = ["单位", "县", "乡镇", "行政村", "开始日期"]


def test_links_open_through_the_pairing_service_and_reimport_is_unchanged(world):
    rows = [
        ["通渭县农业农村局", "通渭县", "马营镇", "东关村", datetime.datetime(2024, 1, 1)],  # already linked
        ["东乡县财政局", "通渭县", "鸡川镇", "鸡川村民委员会", "2026/3/1"],  # a unit seated elsewhere
    ]
    before_links = VillageLink.objects.count()
    result = import_links(workbook(LINK_HEADERS, rows), user=world.users.county_a)
    assert result.ok, result.errors
    assert result.counts["new"] == 1 and result.counts["unchanged"] + result.counts["changed"] == 1
    link = VillageLink.objects.get(unit=world.unit_b, village=world.village_a2)
    assert link.started_on == START and link.created_by == world.users.county_a
    assert VillageLink.objects.count() == before_links + 1
    again = import_links(workbook(LINK_HEADERS, rows), user=world.users.county_a)
    assert again.ok and again.counts == {"new": 0, "changed": 0, "unchanged": 2}


def test_a_village_outside_the_users_scope_or_unknown_is_refused(world):
    rows = [
        ["通渭县农业农村局", "东乡族自治县", "达板镇", "达板村", "2026-03-01"],
        ["通渭县农业农村局", "通渭县", "马营镇", "东官村", "2026-03-01"],
        ["通渭县农业农村局", "通渭县", "马营镇", "东关村", "2026-02-30"],
    ]
    before = snapshot()
    result = import_links(workbook(LINK_HEADERS, rows), user=world.users.county_a)
    texts = [str(e) for e in result.errors]
    assert any("第3行“村”列（达板村）" in t and "不在您的管辖范围内" in t for t in texts), texts
    assert any("第4行“村”列（东官村）" in t and "东关村" in t for t in texts), texts  # suggests the closest
    assert any("第5行“开始日期”列（2026-02-30）" in t and "不是有效的日期" in t for t in texts), texts
    assert snapshot() == before


# ---------------------------------------------------------------- pairings

PAIRING_HEADERS = ["单位", "帮扶干部", "户主身份证号", "户主姓名", "联系类型", "结对日期"]


def test_pairings_obey_the_pairing_rules_and_reimport_is_unchanged(world):
    fresh = f.household(world.village_a, "孙有才", members=1)
    rows = [
        ["通渭县农业农村局", "李文华", world.household_a.head_id_number, "王建国", "帮扶责任人", f.START],
        ["通渭县农业农村局", "李文华", fresh.head_id_number, "孙有才", None, "2026-03-01"],
    ]
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=world.users.town_a)
    assert result.ok, result.errors
    assert result.counts == {"new": 1, "changed": 0, "unchanged": 1}
    pairing = Pairing.objects.get(household=fresh)
    assert (
        pairing.cadre == world.cadre_a
        and pairing.role == "帮扶责任人"
        and pairing.created_by == world.users.town_a
    )
    again = import_pairings(workbook(PAIRING_HEADERS, rows), user=world.users.town_a, dry_run=True)
    assert again.ok and again.counts == {"new": 0, "changed": 0, "unchanged": 2}


def test_a_row_breaking_a_rule_refuses_the_whole_file(world):
    RankLimit.objects.create(county=world.county_a, rank="一般", max_households=2, max_poor=2, min_poor=0)
    extra = [f.household(world.village_a, name, members=1) for name in ("孙甲", "孙乙")]
    unlinked = f.household(world.village_a2, "周丙", members=1)
    rows = [
        ["通渭县农业农村局", "李文华", hh.head_id_number, hh.head_name, "帮扶责任人", "2026-03-01"]
        for hh in extra
    ]
    rows.append(
        ["通渭县农业农村局", "李文华", world.household_b.head_id_number, "妥有福", "帮扶责任人", "2026-03-01"]
    )
    before = snapshot()
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=world.users.town_a)
    texts = [str(e) for e in result.errors]
    # Row 4: the cadre already helps 王建国 and 孙甲 (row 3) — the limit counts rows before it.
    assert any("第4行" in t and "一般干部联系户上限" in t and "已联系 2 户，上限 2 户" in t for t in texts), (
        texts
    )
    assert any("第5行“户主身份证号”列" in t and "不在您的管辖范围内" in t for t in texts), texts
    assert not any("第3行" in t for t in texts), texts
    assert snapshot() == before

    county_rows = [
        ["通渭县农业农村局", "李文华", unlinked.head_id_number, "周丙", "帮扶责任人", "2026-03-01"]
    ]
    result = import_pairings(workbook(PAIRING_HEADERS, county_rows), user=world.users.admin)
    assert "联系户须在本单位联系村" in str(result.errors[0]) and snapshot() == before


def test_a_household_with_a_responsible_cadre_is_not_paired_again(world):
    other = f.cadre(world.unit_a, "赵刚")
    rows = [
        ["通渭县农业农村局", "赵刚", world.household_a.head_id_number, "王建国", "帮扶责任人", "2026-03-01"]
    ]
    before = snapshot()
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=world.users.town_a)
    assert (
        not result.ok
        and "王建国" in str(result.errors[0])
        and "已有帮扶责任人 李文华" in str(result.errors[0])
    )
    assert snapshot() == before and not other.pairings.exists()


def test_pairing_ids_stored_as_numbers_are_refused(world):
    rows = [["通渭县农业农村局", "李文华", 6.21121197001011e17, "王建国", "帮扶责任人", "2026-03-01"]]
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=world.users.town_a)
    assert (
        not result.ok and "被 Excel 存成了数字" in str(result.errors[0]) and "文本" in str(result.errors[0])
    )


# ---------------------------------------------------------------- command and templates


def test_command_imports_each_kind(world, tmp_path, capsys):
    path = tmp_path / "干部.xlsx"
    path.write_bytes(workbook(CADRE_HEADERS, cadre_rows()))
    code, out, err = run_command(capsys, str(path), "--kind", "cadres", "--user", "unit_a")
    assert code == 0 and "干部：新增 1，变更 1，未变 0" in out, err
    code, out, err = run_command(capsys, str(path), "--kind", "cadres")
    assert code == 0 and "干部：新增 0，变更 0，未变 2" in out
    code, out, err = run_command(capsys, str(path), "--kind", "cadres", "--user", "town_a")
    assert code == 1 and "无权导入干部名册" in err and "Traceback" not in err
    links = tmp_path / "联村.csv"
    links.write_bytes(
        "单位,县,乡镇,村,开始日期\n通渭县农业农村局,通渭县,马营镇,东关村,2024-01-01\n".encode("gbk")
    )
    code, out, err = run_command(capsys, str(links), "--kind", "links", "--user", "county_a", "--dry-run")
    assert code == 0 and "检查通过" in out and "联村关系：新增 0" in out
    pairings = tmp_path / "结对.xlsx"
    pairings.write_bytes(
        workbook(
            PAIRING_HEADERS,
            [["通渭县农业农村局", "无名氏", world.household_a.head_id_number, "", "", "2026-03-01"]],
        )
    )
    code, out, err = run_command(capsys, str(pairings), "--kind", "pairings", "--user", "town_a")
    assert code == 1 and "没有干部“无名氏”" in err


def test_each_kind_has_a_template_with_text_ids_dropdowns_notes_and_an_example(world):
    for kind, sheet_name, id_label in (
        ("cadres", "干部名册", None),
        ("links", "联村关系", None),
        ("pairings", "结对关系", "户主身份证号"),
    ):
        book = load_workbook(io.BytesIO(template_bytes(kind)))
        sheet = book[sheet_name]
        assert book["选项"].sheet_state == "hidden"
        headers = [c.value for c in sheet[1]]
        assert sheet.cell(2, 1).value == "示例"
        assert all(c.comment is not None for c in sheet[1][1:])
        assert sheet.data_validations.dataValidation, kind
        if id_label:
            column = headers.index(id_label) + 1
            assert sheet.cell(3, column).number_format == "@"
    # A filled-in template imports (its example row is skipped).
    book = load_workbook(io.BytesIO(template_bytes("pairings")))
    sheet = book["结对关系"]
    sheet.append(
        [
            None,
            "通渭县农业农村局",
            "李文华",
            None,
            world.household_a.head_id_number,
            "王建国",
            "帮扶责任人",
            f.START.isoformat(),
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_pairings(buffer.getvalue(), user=world.users.town_a)
    assert result.ok and result.counts["unchanged"] == 1, result.errors


def test_households_stay_untouched_by_relation_imports(world):
    count = Household.objects.count()
    import_cadres(workbook(CADRE_HEADERS, cadre_rows()), user=world.users.unit_a)
    assert Household.objects.count() == count


def test_a_unit_liaison_imports_its_cadres_through_the_web_flow(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from imports.models import ImportBatch
    from tests.test_import_pages import work

    client.force_login(world.users.unit_a)
    page = client.get(reverse("imports:list")).content.decode()
    assert "下载干部名册模板" in page and "下载农户及成员模板" not in page
    refused = client.post(
        reverse("imports:list"), {"kind": "households", "file": SimpleUploadedFile("a.xlsx", b"x")}
    )
    assert refused.status_code == 200 and not ImportBatch.objects.exists()  # not a kind this role may import
    data = workbook(CADRE_HEADERS, cadre_rows())
    client.post(reverse("imports:list"), {"kind": "cadres", "file": SimpleUploadedFile("干部.xlsx", data)})
    batch = ImportBatch.objects.get()
    work()
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "新增干部" in page and "确认导入" in page and not Cadre.objects.filter(name="陈晓梅").exists()
    client.post(reverse("imports:confirm", args=[batch.pk]))
    work()
    batch.refresh_from_db()
    assert batch.status == "done" and Cadre.objects.filter(name="陈晓梅", unit=world.unit_a).exists()
    # Another unit's liaison does not see the batch.
    client.force_login(world.users.unit_b)
    assert client.get(reverse("imports:detail", args=[batch.pk])).status_code == 404
