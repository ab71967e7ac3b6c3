"""Formats are told by content, not by name: .xlsx, LibreOffice's .xls and .xlsx, CSV in any
encoding township computers save; and the import_roster command."""

from pathlib import Path

import pytest
from django.core.management import call_command

from households.models import Household, Member
from imports.households import import_households
from imports.models import ImportBatch
from imports.reader import sniff
from tests.test_import_households import family, household_workbook, person_workbook, snapshot

DATA = Path(__file__).parent / "data"


def csv_text(families) -> str:
    lines = ["马营镇花名册", "县,乡(镇),村,社,户主姓名,身份证号码,家庭人口,贫困户属性,人均纯收入(元)"]
    for row, members in families:
        lines.append(
            f"{row['县']},{row['乡']},{row['村']},{row['社']},{row['户主']},{row['id']},{row['size']},"
            f"{row['category']},{row['income']}"
        )
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_every_encoding(world, encoding):
    families = [family(1, size=1), family(2, "李四", size=1)]
    data = csv_text(families).encode(encoding)
    result = import_households(data, user=world.users.town_a, filename="名册.xls")  # the name lies
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["households_new"] == 2
    assert Household.objects.get(head_id_number=families[1][0]["id"]).head_name == "李四"


def test_an_xlsx_renamed_to_csv_is_read_as_xlsx(world):
    data = household_workbook([family(1)])
    assert sniff(data) == "xlsx"
    assert import_households(data, user=world.users.town_a, filename="roster.csv").ok


@pytest.mark.parametrize("name", ["roster_libreoffice.xls", "roster_libreoffice.xlsx"])
def test_files_saved_by_libreoffice(world, name):
    data = (DATA / name).read_bytes()
    assert sniff(data) == name.rsplit(".", 1)[1]
    result = import_households(data, user=world.users.town_a, filename=name)
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["households_new"] == 2 and result.counts["members_new"] == 3
    chen = Household.objects.get(head_name="陈有才")
    assert chen.category == "低保户" and chen.group == "1组" and chen.village_id == world.village_a.code
    assert sorted(chen.members.values_list("name", flat=True)) == ["刘桂兰", "陈有才"]
    assert Household.objects.get(head_name="马福").village_id == world.village_a.code
    again = import_households(data, user=world.users.town_a, filename=name)
    assert again.counts["households_unchanged"] == 2 and again.counts["members_unchanged"] == 3


def test_the_xlsx_engines_agree(world):
    data = person_workbook([family(1), family(2, "李四")], merge_numbers=True)
    calamine = import_households(data, user=world.users.town_a, dry_run=True, xlsx_engine="calamine")
    openpyxl = import_households(data, user=world.users.town_a, dry_run=True)
    assert calamine.ok and openpyxl.ok and calamine.counts == openpyxl.counts


def run_command(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_roster", *args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_command_imports_and_reports_in_chinese(world, tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(household_workbook([family(1), family(2, "李四")]))
    code, out, err = run_command(capsys, str(path), "--kind", "households", "--dry-run", "--user", "town_a")
    assert code == 0 and "检查通过（--dry-run，未写入）" in out and "农户：新增 2" in out
    assert not Household.objects.filter(head_name="李四").exists() and not ImportBatch.objects.exists()

    code, out, err = run_command(capsys, str(path), "--user", "town_a")
    assert code == 0 and "导入完成" in out and "成员：新增 6" in out
    batch = ImportBatch.objects.get()
    assert (
        batch.status == "done"
        and batch.created_by == world.users.town_a
        and len(batch.created_households) == 2
    )
    assert batch.filename == "roster.xlsx" and batch.report["counts"]["members_new"] == 6

    code, out, err = run_command(capsys, str(path))  # no --user: an administrator's scope
    assert code == 0 and "农户：新增 0，变更 0，未变 2" in out and "成员：新增 0，变更 0，未变 6" in out


def test_command_refusals_exit_1_without_a_traceback(world, tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(household_workbook([family(1, category="特困户")]))
    before = snapshot()
    code, out, err = run_command(capsys, str(bad), "--user", "town_a")
    assert (
        code == 1 and "导入被拒绝，数据库未作任何改动" in err and "特困户" in err and "Traceback" not in err
    )
    assert snapshot() == before
    assert ImportBatch.objects.get().status == "refused"

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"\x00\x01binary")
    code, out, err = run_command(capsys, str(junk))
    assert code == 1 and "文件被拒绝" in err and "不是电子表格" in err

    code, out, err = run_command(capsys, str(tmp_path / "missing.xlsx"))
    assert code == 1 and "无法读取文件" in err

    code, out, err = run_command(capsys, str(bad), "--user", "county_a")
    assert code == 1 and "无权导入" in err

    code, out, err = run_command(capsys, str(bad), "--user", "nobody")
    assert code == 1 and "没有用户名为 nobody 的在用账号" in err
    assert Member.objects.count() == before[1].__len__()
