"""A first import written while it is read (imports/early.py), and every way that must give up.

On PostgreSQL a one-row-per-person roster's households go to a writer thread block by block
as they are checked; the writer commits only a whole, error-free file of new households.
These tests use blocks of two households, so that a five-household file is written in three
blocks, and run outside a test transaction (the writer has its own connection, and an import
inside the caller's transaction never uses it). On SQLite the same files take the ordinary
path: every assertion about the outcome holds on both.
"""

import threading
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from households.models import Household, Member
from imports import households as roster
from imports.bulk import BlockCopier
from imports.early import EarlyWriter
from imports.models import ImportBatch
from tests.test_import_households import family, person_workbook, pid, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def early(monkeypatch):
    """Blocks of two households; records, per import, what the writer was handed and whether it committed."""
    monkeypatch.setattr(EarlyWriter, "BLOCK", 2)
    seen = []
    finish = EarlyWriter.finish

    def recording_finish(self, rows):
        created = finish(self, rows)
        seen.append(SimpleNamespace(offered=self.offered, created=created))
        return created

    monkeypatch.setattr(EarlyWriter, "finish", recording_finish)
    return seen


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def five_families(**last):
    return [family(serial, head) for serial, head in ((1, "张三"), (2, "李四"), (3, "王五"), (4, "赵六"))] + [
        family(5, "钱七", **last)
    ]


def database_rows():
    """Every imported field, keys and timestamps aside."""
    households = Household.objects.order_by("head_id_number").values(
        "head_id_number",
        "village_id",
        "group",
        "head_name",
        "category",
        "main_cause",
        "other_causes",
        "income_per_head",
        "phone",
        "status",
        "housing",
        "working_away",
    )
    members = Member.objects.order_by("id_number").values(
        "id_number",
        "household__head_id_number",
        "name",
        "sex",
        "birth_date",
        "relation",
        "ethnicity",
        "education",
        "schooling",
        "health",
        "labour",
        "disability",
        "has_medical_insurance",
        "has_pension_insurance",
    )
    return list(households), list(members)


def counts_in_database():
    return Household.objects.count(), Member.objects.count()


def test_a_first_import_is_written_while_read_exactly_as_the_ordinary_path_writes_it(
    world, early, monkeypatch
):
    data = person_workbook(five_families())
    before = counts_in_database()
    result = run(data, world.users.town_a)
    assert result.ok and result.applied, [str(e) for e in result.errors]
    assert result.counts == {
        "households_new": 5,
        "households_changed": 0,
        "households_unchanged": 0,
        "members_new": 15,
        "members_changed": 0,
        "members_unchanged": 0,
    }
    assert bool(early and early[-1].created) == on_postgres()
    heads = [row["id"] for row, _members in five_families()]
    assert result.created_household_ids == [Household.objects.get(head_id_number=h).pk for h in heads]
    assert counts_in_database() == (before[0] + 5, before[1] + 15)
    written_early = database_rows()

    again = run(data, world.users.town_a)  # compared field by field with what was written: nothing differs
    assert again.counts == {
        "households_new": 0,
        "households_changed": 0,
        "households_unchanged": 5,
        "members_new": 0,
        "members_changed": 0,
        "members_unchanged": 15,
    }

    Household.objects.filter(head_id_number__in=heads).delete()
    monkeypatch.setattr(EarlyWriter, "for_import", classmethod(lambda cls, *args, **kwargs: None))
    ordinary = run(data, world.users.town_a)
    assert ordinary.applied and ordinary.counts == result.counts and ordinary.added == result.added
    assert len(result.added) == 5 and result.added[0].startswith(
        "张三户（马营镇东关村 3社，3 人，一般贫困户；花名册第4行）"
    )
    assert database_rows() == written_early


def test_an_error_in_the_last_household_after_blocks_were_written_leaves_nothing(world, early):
    families = five_families()
    bad = families[-1][1][1]
    families[-1][1][1] = (
        bad[0],
        bad[1][:-1] + ("0" if bad[1][-1] != "0" else "1"),
        *bad[2:],
    )  # checksum broken
    before = counts_in_database()
    result = run(person_workbook(families), world.users.town_a)
    assert not result.ok and not result.applied and result.created_household_ids == []
    error = result.errors[0]  # then 家庭人口 3 against the two people left
    assert (
        error.row == 3 + 4 * 4 + 2 and error.column == "身份证号码" and error.value == families[-1][1][1][1]
    )
    if on_postgres():
        assert (
            early[-1].offered == 4 and early[-1].created is None
        )  # two blocks were handed over, then undone
    assert counts_in_database() == before


def test_a_person_registered_in_another_household_in_a_later_block_is_named(world, early):
    registered = world.household_a.members.exclude(relation="户主").first()
    families = five_families()
    spouse = families[-1][1][1]
    families[-1][1][1] = (spouse[0], registered.id_number, *spouse[2:])
    before = counts_in_database()
    result = run(person_workbook(families), world.users.town_a)
    assert not result.ok
    [error] = result.errors
    assert error.value == registered.id_number and "此人已是王建国户的成员" in error.message
    assert counts_in_database() == before


def test_existing_households_in_a_later_block_are_compared_and_changed_as_usual(world, early):
    assert run(person_workbook([family(1, "张三")]), world.users.town_a).applied
    changed = family(1, "张三", income=4100)
    families = [family(3, "王五"), family(4, "赵六"), family(5, "钱七"), changed]
    result = run(person_workbook(families), world.users.town_a)
    assert result.ok and result.applied
    assert result.counts["households_new"] == 3 and result.counts["households_changed"] == 1
    assert result.counts["members_new"] == 9 and result.counts["members_unchanged"] == 3
    assert any("3200.00 → 4100.00" in change for change in result.changes)
    if on_postgres():
        assert early[-1].offered >= 2 and early[-1].created is None  # the second block met the existing head
    assert Household.objects.get(head_id_number=changed[0]["id"]).income_per_head == 4100
    assert Household.objects.filter(head_id_number__in=[row["id"] for row, _m in families]).count() == 4


def test_an_unknown_village_in_a_later_block_is_refused_with_suggestions(world, early):
    before = counts_in_database()
    result = run(person_workbook(five_families(village="东官村")), world.users.town_a)
    assert not result.ok
    [error] = result.errors
    assert error.value == "东官村" and "没有村“东官村”" in error.message and "东关村" in error.message
    assert counts_in_database() == before


def test_the_same_person_in_two_blocks_is_refused_as_a_duplicate(world, early):
    families = five_families()
    first_son = families[0][1][2]
    families[-1][1][2] = (families[-1][1][2][0], first_son[1], *families[-1][1][2][2:])
    before = counts_in_database()
    result = run(person_workbook(families), world.users.town_a)
    assert not result.ok
    assert any("同一人在文件中出现了两次" in e.message and e.value == first_son[1] for e in result.errors)
    assert counts_in_database() == before


def test_a_failure_while_reading_rolls_the_writer_back(world, early, monkeypatch):
    calls = []
    household_values = roster.household_values

    def failing_on_the_fifth(*args):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("disk on fire")
        return household_values(*args)

    monkeypatch.setattr(roster, "household_values", failing_on_the_fifth)
    before = counts_in_database()
    with pytest.raises(RuntimeError):
        run(person_workbook(five_families()), world.users.town_a)
    assert counts_in_database() == before
    assert not any(t.name == "import-early-writer" for t in threading.enumerate())


def test_inside_the_callers_transaction_the_import_rolls_back_with_it(world, early):
    before = counts_in_database()
    with transaction.atomic():
        result = run(person_workbook(five_families()), world.users.town_a)
        assert result.applied and Household.objects.filter(head_id_number=pid(11)).exists()
        transaction.set_rollback(True)
    assert early == []  # no writer of its own: its commit would have escaped this rollback
    assert counts_in_database() == before


def test_a_dry_run_writes_nothing(world, early):
    before = counts_in_database()
    result = run(person_workbook(five_families()), world.users.town_a, dry_run=True)
    assert result.ok and not result.applied and result.counts["households_new"] == 5
    assert early == [] and counts_in_database() == before


def test_a_fault_in_the_writer_is_logged_and_the_file_written_the_ordinary_way(
    world, early, monkeypatch, caplog
):
    def broken_copy(self, cursor, text):
        raise RuntimeError("driver fault")

    monkeypatch.setattr(BlockCopier, "copy", broken_copy)
    result = run(person_workbook(five_families()), world.users.town_a)
    assert result.ok and result.applied and result.counts["households_new"] == 5
    assert (
        Household.objects.filter(head_id_number__in=[row["id"] for row, _m in five_families()]).count() == 5
    )
    logged = any("early writer failed" in record.getMessage() for record in caplog.records)
    assert logged == on_postgres()


def test_the_command_records_the_households_the_writer_created(world, early, tmp_path, capsys):
    path = tmp_path / "马营镇花名册.xlsx"
    path.write_bytes(person_workbook(five_families()))
    call_command("import_roster", str(path), "--kind", "households", "--user", "town_a")
    assert "新增 5" in capsys.readouterr().out
    assert bool(early and early[-1].created) == on_postgres()
    batch = ImportBatch.objects.get()
    heads = [row["id"] for row, _members in five_families()]
    assert batch.status == "done" and batch.created_households == [
        Household.objects.get(head_id_number=head).pk for head in heads
    ]
