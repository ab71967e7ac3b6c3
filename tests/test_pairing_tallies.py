"""The cadres' load tallies (pairing/tallies.py): after every kind of change that opens or ends a
pairing they equal a recount from the pairings, done here in plain Python; the command rebuilds them."""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command

from households.models import Household
from imports.pairings import import_pairings
from pairing import coverage, services, tallies
from pairing.models import Cadre, CadreLoad, CountyRules, Pairing, RankLimit
from shuanglian.indicators import Scope
from tests import factories as f
from tests.test_import_relations import PAIRING_HEADERS, workbook

DAY = datetime.date(2025, 7, 1)


def recounted() -> dict:
    """{(cadre, household county): (open pairings, open responsible pairings)}, from the Pairing rows."""
    total, responsible = Counter(), Counter()
    for pairing in Pairing.objects.select_related("household"):
        if pairing.ended_on is None:
            key = (pairing.cadre_id, pairing.household.village_id[:6] + "000000")
            total[key] += 1
            responsible[key] += pairing.role == "帮扶责任人"
    return {key: (n, responsible[key]) for key, n in total.items()}


def assert_tallies_match():
    assert tallies.kept() == recounted()


@pytest.fixture
def town(world):
    """Unpaired poor households in county A's linked village and county B's, and free cadres."""
    world.poor_a = [f.household(world.village_a, f"东关{i}", members=1) for i in range(4)]
    world.poor_b = f.household(world.village_b, "东乡户", members=1)
    world.section = f.cadre(world.unit_a, "科长甲", rank=Cadre.Rank.SECTION)
    world.staff = f.cadre(world.unit_a, "科员乙")
    return world


def test_pair_pair_many_and_end(town):
    assert_tallies_match()  # the world's own pairing, made by the factory
    services.pair(cadre=town.section, household=town.poor_a[0], started_on=DAY)
    assert_tallies_match()
    services.pair(cadre=town.staff, household=town.poor_a[0], started_on=DAY, role=Pairing.Role.CONTACT)
    assert tallies.kept()[(town.staff.pk, town.county_a.code)] == (1, 0)
    services.pair_many(cadre=town.section, households=town.poor_a[1:3], started_on=DAY)
    assert tallies.kept()[(town.section.pk, town.county_a.code)] == (3, 3)
    assert_tallies_match()
    pairing = Pairing.objects.open().get(cadre=town.section, household=town.poor_a[1])
    services.end_relation(relation=pairing, ended_on=DAY, reason=Pairing.EndReason.ADJUSTMENT)
    assert tallies.kept()[(town.section.pk, town.county_a.code)] == (2, 2)
    # Ending it again (a second press, a stale copy) changes the date only, not the load.
    stale = Pairing.objects.get(pk=pairing.pk)
    services.end_relation(
        relation=stale, ended_on=DAY + datetime.timedelta(days=1), reason=Pairing.EndReason.ADJUSTMENT
    )
    assert_tallies_match()
    contact = Pairing.objects.open().get(cadre=town.staff)
    services.end_relation(relation=contact, ended_on=DAY, reason=Pairing.EndReason.ADJUSTMENT)
    assert (town.staff.pk, town.county_a.code) not in tallies.kept()  # its row holds 0
    assert CadreLoad.objects.get(cadre=town.staff).households == 0
    assert_tallies_match()


def test_a_refused_pairing_counts_nothing(town):
    RankLimit.objects.create(
        county=town.county_a, rank=Cadre.Rank.STAFF, max_households=1, max_poor=1, min_poor=0
    )
    with pytest.raises(services.RuleBroken):
        services.pair_many(cadre=town.staff, households=town.poor_a[:2], started_on=DAY)
    with pytest.raises(services.RuleBroken):
        services.pair(cadre=town.cadre_a, household=town.household_a, started_on=DAY)
    assert_tallies_match()


def test_proposal_apply(town):
    proposal = services.create_proposal(region=town.town_a, started_on=DAY, by=town.users.town_a)
    created = services.apply_proposal(proposal=proposal, by=town.users.county_a)
    assert created and tallies.kept() != {}
    assert_tallies_match()


def test_a_refused_proposal_counts_nothing(town):
    proposal = services.create_proposal(region=town.town_a, started_on=DAY, by=town.users.town_a)
    line = proposal.lines.filter(cadre__isnull=False).select_related("household").first()
    services.pair(
        cadre=f.cadre(town.unit_a, "抢先者", rank=Cadre.Rank.SECTION),
        household=line.household,
        started_on=DAY,
    )
    before = tallies.kept()
    with pytest.raises(services.RuleBroken):
        services.apply_proposal(proposal=proposal, by=town.users.county_a)
    assert tallies.kept() == before
    assert_tallies_match()


def test_handover_apply_moves_the_load_to_the_successors(town):
    services.pair_many(cadre=town.staff, households=town.poor_a[:2], started_on=DAY)
    handover = services.start_handover(
        cadre=town.staff,
        new_status=Cadre.Status.TRANSFERRED,
        effective_on=datetime.date(2025, 9, 1),
        by=town.users.town_a,
    )
    services.apply_handover(handover=handover, by=town.users.county_a)
    assert CadreLoad.objects.get(cadre=town.staff).households == 0
    assert_tallies_match()


def test_a_handover_across_counties_applied_by_each_county(town):
    """A city unit's cadre holds households in two counties; each county office applies its own lines."""
    city_unit = f.unit(town.city_a, "定西市扶贫办", level="city")
    f.link(city_unit, town.village_a)
    f.link(city_unit, town.village_b)
    leaving, successor = (
        f.cadre(city_unit, "调离者", rank=Cadre.Rank.SECTION),
        f.cadre(city_unit, "接任者", rank=Cadre.Rank.SECTION),
    )
    services.pair(cadre=leaving, household=town.poor_a[3], started_on=DAY)
    services.pair(cadre=leaving, household=town.poor_b, started_on=DAY)
    assert_tallies_match()
    handover = services.start_handover(
        cadre=leaving,
        new_status=Cadre.Status.RETIRED,
        effective_on=datetime.date(2025, 9, 1),
        by=town.users.city_a,
    )
    handover.lines.update(successor=successor)
    services.apply_handover(handover=handover, by=town.users.county_a)
    assert_tallies_match()
    services.apply_handover(handover=handover, by=town.users.county_b)
    assert tallies.kept() == recounted()
    assert recounted()[(successor.pk, town.county_b.code)] == (1, 1)


def test_pairing_import(town):
    RankLimit.objects.create(
        county=town.county_a, rank=Cadre.Rank.STAFF, max_households=4, max_poor=4, min_poor=0
    )
    rows = [
        ["通渭县农业农村局", "李文华", hh.head_id_number, hh.head_name, "帮扶责任人", "2026-03-01"]
        for hh in town.poor_a[:2]
    ]
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=town.users.town_a)
    assert result.ok, result.errors
    assert tallies.kept()[(town.cadre_a.pk, town.county_a.code)] == (3, 3)
    assert_tallies_match()
    # A file refused whole (the last row breaks the limit of 4) leaves the loads as they were.
    rows = [
        ["通渭县农业农村局", "李文华", hh.head_id_number, hh.head_name, "帮扶责任人", "2026-03-01"]
        for hh in town.poor_a[2:]
    ]
    rows.append(
        [
            "通渭县农业农村局",
            "李文华",
            f.household(town.village_a, "多一户", members=1).head_id_number,
            "多一户",
            "帮扶责任人",
            "2026-03-01",
        ]
    )
    result = import_pairings(workbook(PAIRING_HEADERS, rows), user=town.users.town_a)
    assert not result.ok
    assert tallies.kept()[(town.cadre_a.pk, town.county_a.code)] == (3, 3)
    assert_tallies_match()


def test_the_command_rebuilds_and_a_dry_run_keeps_nothing(town):
    services.pair_many(cadre=town.section, households=town.poor_a[:2], started_on=DAY)
    CadreLoad.objects.filter(cadre=town.section).update(households=7, responsible=5)
    CadreLoad.objects.filter(cadre=town.cadre_a).delete()
    out = io.StringIO()
    call_command("rebuild_pairing_tallies", "--dry-run", stdout=out)
    assert "试运行" in out.getvalue() and "与原汇总不同 2 条" in out.getvalue()
    assert tallies.kept() != recounted()
    call_command("rebuild_pairing_tallies", stdout=out)
    assert_tallies_match()
    out = io.StringIO()
    call_command("rebuild_pairing_tallies", stdout=out)  # idempotent
    assert "与原汇总不同 0 条" in out.getvalue()
    assert_tallies_match()


def test_both_ways_of_reading_the_loads_give_the_same_rows(town):
    """coverage.py reads the tallies one way for a province or city, another for a county or below."""
    city_unit = f.unit(town.city_a, "定西市扶贫办", level="city")
    f.link(city_unit, town.village_a)
    f.link(city_unit, town.village_b)
    both = f.cadre(city_unit, "张两县")
    services.pair(cadre=both, household=town.poor_a[0], started_on=DAY, role=Pairing.Role.CONTACT)
    services.pair(cadre=both, household=town.poor_b, started_on=DAY)
    services.pair_many(cadre=town.section, households=town.poor_a[1:], started_on=DAY)
    RankLimit.objects.create(
        county=town.county_b, rank=Cadre.Rank.STAFF, max_households=6, max_poor=4, min_poor=0
    )
    RankLimit.objects.create(
        county=town.county_a, rank=Cadre.Rank.SECTION, max_households=2, max_poor=2, min_poor=2
    )
    f.cadre(town.unit_b, "东乡闲者")
    # Exemptions by the seat county's own rules: 东乡县 pairs its teachers, 通渭县 does not,
    # except one who holds a pairing already.
    CountyRules.objects.create(county=town.county_b, exempt_categories=[])
    f.cadre(town.unit_b, "东乡教师", category=Cadre.Category.TEACHER)
    f.cadre(town.unit_a, "通渭教师", category=Cadre.Category.TEACHER)
    f.pairing(
        f.cadre(town.unit_a, "联户医生", category=Cadre.Category.MEDICAL), town.poor_a[0], role="联系户"
    )
    for region in (town.province, town.city_a, town.county_a, town.county_b, town.town_a):
        rows = {}
        for way in (coverage._wide_load_sql, coverage._narrow_load_sql):
            sql, params = way(Scope(prefix=region.prefix))
            rows[way] = sorted(tuple(row.values()) for row in coverage._dict_rows(sql, params))
        assert rows[coverage._wide_load_sql] == rows[coverage._narrow_load_sql], region.name
        assert rows[coverage._wide_load_sql] or region == town.town_a  # no unit seated in the township
    seated = {row["cadre_id"] for row in coverage._dict_rows(*coverage._cadre_load_sql(Scope(prefix="62")))}
    names = set(Cadre.objects.filter(pk__in=seated).values_list("name", flat=True))
    assert {"东乡教师", "联户医生"} <= names and "通渭教师" not in names


def test_a_household_moved_to_another_county_by_import_moves_its_load(world):
    """Its county's limits now apply: the load follows the household (households.moves)."""
    from tests.test_import_households import family, household_workbook, run

    row = family(1, "张三")
    assert run(household_workbook([row]), world.users.admin).ok
    household = Household.objects.get(head_id_number=row[0]["id"])
    services.pair(cadre=world.cadre_a, household=household, started_on=DAY)
    assert tallies.kept()[(world.cadre_a.pk, world.county_a.code)] == (2, 2)
    moved = family(1, "张三", 县="东乡族自治县", 乡="达板镇", village="达板村")
    result = run(household_workbook([moved]), world.users.admin)
    assert result.ok, [str(e) for e in result.errors]
    assert Household.objects.get(pk=household.pk).village_id == world.village_b.code
    assert tallies.kept()[(world.cadre_a.pk, world.county_b.code)] == (1, 1)
    assert_tallies_match()


@pytest.mark.django_db
def test_generate_province_fills_the_tallies():
    call_command("generate_province", scale=0.001, verbosity=0)
    assert recounted() and tallies.kept() == recounted()
