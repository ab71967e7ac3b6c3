"""The bulk paths under the roster import: one query for a whole file's keys, and new rows
written block by block (on PostgreSQL by a writer thread running COPY while the importing
thread formats the next block). Whatever fails — the database refusing a row half-way, or
the rows themselves — is raised to the importer and nothing stays written."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from households.models import Household, Member
from imports import bulk
from imports.households import import_households
from shuanglian.lib import idcard
from tests.test_import_households import family, person_workbook, snapshot


def person(hh, serial, **fields):
    number = idcard.make("621121", datetime.date(1990, 1, 1), serial)
    return {
        "household_id": hh.pk,
        "name": f"成员{serial}",
        "id_number": number,
        "relation": "之子",
        "sex": "M",
        "birth_date": datetime.date(1990, 1, 1),
        **fields,
    }


@pytest.fixture
def small_blocks(monkeypatch):
    """Two rows per block, so a handful of rows crosses several hand-overs to the writer."""
    monkeypatch.setattr(bulk, "_COPY_BLOCK", 2)


def test_one_of_finds_any_number_of_values_and_nothing_for_none(world):
    ids = list(Member.objects.values_list("id_number", flat=True))
    wanted = ids[:3] + ["110105194912310021"]
    assert sorted(
        Member.objects.filter(bulk.OneOf(F("id_number"), wanted)).values_list("id_number", flat=True)
    ) == sorted(ids[:3])
    assert not Member.objects.filter(bulk.OneOf(F("id_number"), [])).exists()
    pks = list(Household.objects.values_list("pk", flat=True))
    assert Household.objects.filter(bulk.OneOf(F("pk"), pks[:2])).count() == 2


def test_one_of_matches_values_with_quotes_backslashes_and_commas_exactly(world):
    odd = ['王"五', "李\\四", "赵,六", "NULL", "{钱}"]
    people = list(Member.objects.order_by("pk")[: len(odd)])
    for person, name in zip(people, odd):
        person.name = name
        person.save(update_fields=["name"])
    found = Member.objects.filter(bulk.OneOf(F("name"), odd + ["王", "五"])).values_list("name", flat=True)
    assert sorted(found) == sorted(odd)


def test_rows_in_several_blocks_are_all_written_with_the_model_defaults(world, small_blocks):
    hh = world.household_a
    bulk.insert_rows(Member, (person(hh, serial) for serial in range(1, 8)))
    written = Member.objects.filter(name__startswith="成员")
    assert written.count() == 7
    assert set(written.values_list("ethnicity", "has_medical_insurance", "household_id")) == {
        ("汉族", True, hh.pk)
    }


def test_a_row_the_database_refuses_half_way_is_raised_and_rolls_everything_back(world, small_blocks):
    hh = world.household_a
    taken = Member.objects.filter(household=hh).values_list("id_number", flat=True).first()
    rows = (
        [person(hh, serial) for serial in range(1, 6)]
        + [person(hh, 6, id_number=taken)]
        + [person(hh, serial) for serial in range(7, 12)]
    )
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Member, iter(rows))
    assert snapshot() == before
    assert Member.objects.filter(household=hh).count() == 3  # the connection is usable again


def test_rows_that_fail_to_be_produced_abort_the_write(world, small_blocks):
    hh = world.household_a

    def rows():
        for serial in range(1, 6):
            yield person(hh, serial)
        raise ValueError("broken row")

    before = snapshot()
    with pytest.raises(ValueError, match="broken row"), transaction.atomic():
        bulk.insert_rows(Member, rows())
    assert snapshot() == before
    assert Member.objects.filter(household=hh).count() == 3


def test_an_import_whose_member_write_fails_leaves_no_household_behind(world, small_blocks, monkeypatch):
    """Households are written first; a member refused by the database afterwards (here someone
    registered by another user between the check and the write) takes them back out."""
    families = [family(serial, f"户主{serial}") for serial in range(60, 66)]
    data = person_workbook(families)
    late = families[-1][1][-1][1]  # the last family's last member
    real_insert = bulk.insert_rows

    def insert_with_a_late_arrival(model, rows, **options):
        if model is Member:
            Member.objects.create(
                household=world.household_a,
                name="后登记",
                id_number=late,
                relation="之子",
                sex="M",
                birth_date=datetime.date(2010, 6, 6),
            )
        real_insert(model, rows, **options)

    monkeypatch.setattr("imports.households.insert_rows", insert_with_a_late_arrival)
    before = snapshot()
    with pytest.raises(IntegrityError):
        import_households(data, user=world.users.admin, filename="roster.xlsx")
    assert snapshot() == before
