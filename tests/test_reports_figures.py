"""The monthly report's figures against an independent count written as plain Python over the
records (3 scopes × 3 months); rows that add up to their totals; the monthly tallies equal to a
recount after a random sequence of writes; the report page's pinned query count."""

import datetime
import json
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from demands.models import Demand, DemandAction, Level
from households.models import Household
from pairing.models import Pairing, VillageLink
from reports import figures
from reports.offices import Office
from shuanglian import indicators
from shuanglian.indicators import Period, Scope
from tests import factories as f
from tests.queries import count_queries
from visits import tallies
from visits.models import UnitMonthTally, UnitVisit, VillageMonthTally, Visit
from visits.services import record_unit_visit, record_visit

MONTHS = [datetime.date(2025, 4, 1), datetime.date(2025, 5, 1), datetime.date(2025, 6, 1)]
MODES = list(Visit.Mode)


@pytest.fixture
def record(world):
    """Households in both townships of county A, paired with cadres of two units; three months of
    visits, unit visits and demands written through the services, at random (seeded)."""
    rng = random.Random(13)
    unit_c = f.unit(world.town_a2, "鸡川镇政府", level="township")
    cadre_c = f.cadre(unit_c, "周强")
    f.link(unit_c, world.village_a2)
    households = [world.household_a, world.household_a2]
    for index in range(6):
        village = world.village_a if index % 2 else world.village_a2
        households.append(f.household(village, f"户{index}", members=1, working_away=index % 3 == 0))
    helpers = {}
    for household in households[1:]:
        cadre = rng.choice([world.cadre_a, cadre_c])
        f.pairing(cadre, household)
    for pairing in Pairing.objects.filter(household__in=households):
        helpers[pairing.household_id] = pairing.cadre
    for _ in range(60):
        household = rng.choice(households)
        month = rng.choice(MONTHS)
        try:
            record_visit(
                household=household,
                cadre=helpers[household.pk],
                visited_on=month.replace(day=rng.randint(1, 28)),
                by=world.users.admin,
                mode=rng.choice(MODES),
                help_cash=Decimal(rng.choice([0, 0, 100, 250])),
            )
        except ValidationError:
            pass  # the same cadre, household, day and mode twice: refused, counted nowhere
    for _ in range(12):
        unit, village, cadre = rng.choice(
            [(world.unit_a, world.village_a, world.cadre_a), (unit_c, world.village_a2, cadre_c)]
        )
        try:
            record_unit_visit(
                unit=unit,
                village=village,
                visited_on=rng.choice(MONTHS).replace(day=rng.randint(1, 28)),
                cadres=[cadre],
                activities="座谈",
                by=world.users.admin,
            )
        except ValidationError:
            pass
    for index in range(15):
        household = rng.choice(households)
        raised = rng.choice(MONTHS).replace(day=rng.randint(1, 28))
        status = rng.choice(list(Demand.Status))
        demand = Demand.objects.create(
            household=household,
            raised_on=raised,
            category=Demand.Category.values[0],
            text=f"诉求{index}",
            level=Level.CADRE,
            status=status,
            due_on=raised + datetime.timedelta(days=15),
            raised_by=world.users.admin,
        )
        if status in (Demand.Status.RESOLVED, Demand.Status.EXPLAINED):
            kind = (
                DemandAction.Kind.RESOLVE if status == Demand.Status.RESOLVED else DemandAction.Kind.EXPLAIN
            )
            closed = raised + datetime.timedelta(days=rng.randint(0, 40))
            DemandAction.objects.create(
                demand=demand,
                kind=kind,
                from_level=Level.CADRE,
                by=world.users.admin,
                at=datetime.datetime.combine(closed, datetime.time(10), tzinfo=datetime.UTC),
            )
    return {"unit_c": unit_c}


def _plain(scope: Scope, month: datetime.date) -> dict:
    """The figures counted in Python over every row, with no query shared with the indicators."""
    end = (month + datetime.timedelta(days=32)).replace(day=1)

    def region_or_unit(village_code, unit_id):
        if scope.unit_id is not None:
            return unit_id == scope.unit_id
        return village_code.startswith(scope.prefix)

    visits = [
        v
        for v in Visit.objects.select_related("household", "cadre")
        if month <= v.visited_on < end and region_or_unit(v.household.village_id, v.cadre.unit_id)
    ]
    unit_visits = [
        u
        for u in UnitVisit.objects.all()
        if month <= u.visited_on < end and region_or_unit(u.village_id, u.unit_id)
    ]
    open_pairs = {
        (p.household_id, p.cadre.unit_id) for p in Pairing.objects.select_related("cadre") if not p.ended_on
    }

    def demand_in_scope(d):
        if scope.unit_id is not None:
            return (d.household_id, scope.unit_id) in open_pairs
        return d.household.village_id.startswith(scope.prefix)

    demands = [d for d in Demand.objects.select_related("household") if demand_in_scope(d)]
    closed = {
        (a.demand_id, a.kind)
        for a in DemandAction.objects.all()
        if month <= a.at.astimezone(datetime.UTC).date() < end
    }
    home = {Visit.Mode.HOME, Visit.Mode.MEETING, Visit.Mode.EVENT}
    linked = {(link.village_id, link.unit_id) for link in VillageLink.objects.all() if not link.ended_on}

    def household_in_scope(h):
        if h.status != "在册":
            return False
        if scope.unit_id is not None:
            return (h.village_id, scope.unit_id) in linked or (h.pk, scope.unit_id) in open_pairs
        return h.village_id.startswith(scope.prefix)

    quarter = month.replace(month=3 * ((month.month - 1) // 3) + 1)
    every_visit = list(Visit.objects.all())
    paired = {household for household, _unit in open_pairs}
    households = [h for h in Household.objects.all() if household_in_scope(h)]
    seen_in_quarter = {v.household_id for v in every_visit if quarter <= v.visited_on < end}
    seen_in_month = {v.household_id for v in every_visit if month <= v.visited_on < end}
    return {
        "households_not_contacted_quarter": sum(
            1 for h in households if h.pk in paired and h.pk not in seen_in_quarter
        ),
        "households_away_contacted": sum(1 for h in households if h.working_away and h.pk in seen_in_month),
        "visits_home": sum(1 for v in visits if v.mode in home),
        "visits_contact": sum(1 for v in visits if v.mode not in home),
        "households_contacted": len({v.household_id for v in visits}),
        "help_cash": sum((v.help_cash for v in visits), Decimal("0.00")),
        "unit_visits": len(unit_visits),
        "demands_raised": sum(1 for d in demands if month <= d.raised_on < end),
        "demands_overdue": sum(
            1
            for d in demands
            if d.status in ("待办", "办理中") and d.due_on < end - datetime.timedelta(days=1)
        ),
        "demands_resolved": sum(
            1 for d in demands if d.status == "已解决" and (d.pk, DemandAction.Kind.RESOLVE) in closed
        ),
        "demands_explained": sum(
            1 for d in demands if d.status == "已解释" and (d.pk, DemandAction.Kind.EXPLAIN) in closed
        ),
    }


@pytest.mark.parametrize("month", MONTHS)
@pytest.mark.parametrize("which", ["county_a", "town_a2", "unit_a"])
def test_the_figures_equal_a_plain_count_of_the_records(settings, world, record, which, month):
    settings.TIME_ZONE = "UTC"
    scope = (
        Scope(unit_id=world.unit_a.pk)
        if which == "unit_a"
        else Scope(prefix=getattr(world, which).code.rstrip("0"))
    )
    if which == "county_a":
        scope = Scope(prefix=world.county_a.code[:6])
    if which == "town_a2":
        scope = Scope(prefix=world.town_a2.code[:9])
    expected = _plain(scope, month)
    period = Period.month(month.year, month.month)
    counted = {key: indicators.value(key, scope, period) for key in expected}
    assert counted == expected
    assert expected["visits_home"] + expected["visits_contact"] > 0 or which == "unit_a"


def test_the_county_rows_add_up_to_its_totals(world, record):
    report = figures.compute(Office(region=world.county_a), MONTHS[1])
    rows = [row for row in report["rows"] if row["kind"] == "region"]
    assert [row["name"] for row in rows] == ["马营镇", "鸡川镇"]
    assert [row["name"] for row in report["rows"] if row["kind"] == "unit"] == [
        "通渭县农业农村局",
        "鸡川镇政府",
    ]
    totals = figures.row_totals(report)
    checked = 0
    for key in figures.REGION_ROW:
        if figures.additive(key):
            assert str(totals[key]) == str(report["month"][key]), key
            checked += 1
    assert checked >= 8
    assert report["month"]["visits_home"] + report["month"]["visits_contact"] > 0


def test_the_monthly_tallies_equal_a_recount_after_random_writes(world, record):
    kept = {model: tallies.monthly_recount(model) for model in (VillageMonthTally, UnitMonthTally)}
    assert kept[VillageMonthTally] and kept[UnitMonthTally]
    tallies.rebuild_monthly()
    for model in (VillageMonthTally, UnitMonthTally):
        assert tallies.monthly_recount(model) == kept[model], model.__name__


def test_the_rebuild_command_restores_lost_tallies(world, record):
    kept = tallies.monthly_recount(VillageMonthTally)
    VillageMonthTally.objects.all().delete()
    call_command("rebuild_visit_tallies", verbosity=0)
    assert tallies.monthly_recount(VillageMonthTally) == kept


def test_the_command_prints_the_figures_as_json(world, record, capsys):
    call_command("monthly_report", "2025-05", "--scope", world.county_a.code[:6], "--json")
    printed = json.loads(capsys.readouterr().out)
    keys = (
        "households_poor households_paired households_unpaired visits_home visits_contact "
        "households_contacted unit_visits demands_raised demands_resolved demands_overdue help_cash"
    ).split()
    assert all(isinstance(printed[key], int | float) for key in keys), printed
    expected = _plain(Scope(prefix=world.county_a.code[:6]), MONTHS[1])
    assert printed["visits_home"] == expected["visits_home"]
    assert Decimal(str(printed["help_cash"])) == expected["help_cash"]


def test_the_command_writes_a_workbook(world, record, tmp_path):
    target = tmp_path / "report.xlsx"
    call_command(
        "monthly_report", "2025-05", "--scope", world.town_a.code, "--xlsx", str(target), verbosity=0
    )
    from openpyxl import load_workbook

    book = load_workbook(target)
    assert "指标" in book.sheetnames


def test_the_report_page_runs_a_fixed_number_of_queries(client, world, record):
    client.force_login(world.users.county_a)
    url = reverse("reports:detail", args=[world.county_a.code, 2025, 5])
    first = count_queries(client, url)
    f.unit(world.county_a, "县水务局", level="county")  # one more unit row: no more queries
    f.household(world.village_a, "新户", members=1)  # more records: no more queries
    second = count_queries(client, url)
    assert second == first
    assert first <= 90, first


def test_open_demands_come_from_the_months_demand_batch(world, record):
    """demands_open is the present state, read from the month's demand batch (which counts it too);
    an office with rows reads its month's demand figures as the sum of the rows (which count them
    per child anyway): the demands are passed over twice (rows, year to date), and the figure is
    the catalogue's present count; the closing steps are read once per pass."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    office = Office(region=world.county_a)
    Demand.objects.filter(pk__in=Demand.objects.order_by("pk").values("pk")[:1]).update(
        status=Demand.Status.PENDING
    )
    with CaptureQueriesContext(connection) as queries:
        computed = figures.compute(office, MONTHS[1])
    demand_passes = [query for query in queries.captured_queries if 'FROM "demands_demand"' in query["sql"]]
    assert len(demand_passes) == 2, [query["sql"][:120] for query in demand_passes]
    # The year to date asks the demand batch for its flow figures only: the demands raised in it
    # are counted alone, only the rows pass over the open demands.
    open_passes = [query for query in demand_passes if "待办" in query["sql"]]
    assert len(open_passes) == 1, [query["sql"][:120] for query in demand_passes]
    # The closed demands of the year and per row are read from the closing steps in the period
    # (an index range), one query each, no EXISTS probe per closed demand inside the passes.
    closing = [query for query in queries.captured_queries if 'FROM "demands_demandaction"' in query["sql"]]
    assert len(closing) == 2, [query["sql"][:120] for query in closing]
    # 26 before the office's own figures were summed from its rows where they share a batch
    # (households, pairing coverage, visit tallies, demands: 5 queries less) and the rows' poor
    # households read as the paired plus the unpaired ones (one less).
    assert len(queries.captured_queries) == 20, len(queries.captured_queries)
    present = indicators.value("demands_open", office.scope, None)
    assert computed["month"]["demands_open"] == present > 0
    assert list(computed["month"]) == figures.PRESENT + figures.MONTH


@pytest.mark.parametrize("which", ["province", "county_a", "town_a", "unit_a"])
def test_the_report_equals_each_figure_counted_alone(world, record, which):
    """The office's own figures summed from its rows, and the year's demand figures counted
    without the open demands, equal each figure read alone from the catalogue (one whole batch
    each), for the month, the present state and the year to date."""
    office = Office(unit=world.unit_a) if which == "unit_a" else Office(region=getattr(world, which))
    period = Period.month(MONTHS[1].year, MONTHS[1].month)
    computed = figures.compute(office, MONTHS[1])
    assert computed["rows"] or which in ("town_a", "unit_a")
    expected = {
        key: figures.plain(indicators.value(key, office.scope, None if key in figures.PRESENT else period))
        for key in figures.PRESENT + figures.MONTH
    }
    assert computed["month"] == expected
    assert sum(expected[key] for key in ("visits_home", "demands_raised", "poor", "paired")) > 0
    assert computed["year"]["demands_raised"] > 0
    year = {
        key: figures.plain(indicators.value(key, office.scope, period.year_to_date())) for key in figures.YEAR
    }
    assert computed["year"] == year
    if computed["rows"]:
        digits = 4 if which == "province" else 9
        poor = indicators.table(["poor", "paired", "unpaired"], office.scope, None, digits)
        for row in computed["rows"]:
            if row["kind"] == "region":
                counted = poor.get(row["office"][:digits], {})
                for key in ("poor", "paired", "unpaired"):
                    assert row["values"][key] == counted.get(key, 0), (row["name"], key)


def test_a_closed_demand_counts_once_and_only_as_it_stands(world):
    """The closed figures are read from the closing steps of the period: a demand closed twice in
    the month counts once, and a step of the other kind (or of another month) counts nothing."""
    month = Period.month(2025, 5)

    def demand(status, *steps):
        made = Demand.objects.create(
            household=world.household_a,
            raised_on=datetime.date(2025, 4, 20),
            category=Demand.Category.values[0],
            text="诉求",
            status=status,
            due_on=datetime.date(2025, 5, 5),
            raised_by=world.users.admin,
        )
        for kind, day in steps:
            DemandAction.objects.create(
                demand=made,
                kind=kind,
                from_level=Level.CADRE,
                by=world.users.admin,
                at=datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC),
            )

    resolve, explain = DemandAction.Kind.RESOLVE, DemandAction.Kind.EXPLAIN
    demand(Demand.Status.RESOLVED, (resolve, datetime.date(2025, 5, 3)), (resolve, datetime.date(2025, 5, 9)))
    demand(Demand.Status.RESOLVED, (explain, datetime.date(2025, 5, 4)))  # stands resolved: no count
    demand(Demand.Status.EXPLAINED, (explain, datetime.date(2025, 4, 30)))  # closed the month before
    demand(Demand.Status.EXPLAINED, (explain, datetime.date(2025, 5, 31)))
    keys = ["demands_resolved", "demands_explained"]
    expected = {"demands_resolved": 1, "demands_explained": 1}
    for scope in (Scope(prefix=world.county_a.prefix), Scope(unit_id=world.unit_a.pk)):
        assert indicators.values(keys, scope, month) == expected, scope
    rows = indicators.table(keys, Scope(prefix=world.county_a.prefix), month, 9)
    assert rows[world.household_a.village_id[:9]] == expected
    assert indicators.values(keys, Scope(prefix=world.county_a.prefix), Period.month(2025, 4)) == {
        "demands_resolved": 0,
        "demands_explained": 1,
    }
