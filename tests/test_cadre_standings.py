"""The cadres' standings and their counts (pairing/standings.py): after a random sequence of every
kind of change (pair, end, hand over, proposals, imports, a cadre's rank, category, unit or status,
a unit's seat, a limit, an exemption, a household moved) they equal a recount from the records,
and the coverage page's cadre figures read from them equal each cadre judged one by one."""

import datetime
import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from households import moves
from households.models import Household
from imports.cadres import import_cadres
from imports.pairings import import_pairings
from pairing import coverage, indicators, services, standings
from pairing.models import Cadre, CadreStanding, CountyRules, Pairing, RankLimit, StandingCount
from shuanglian.indicators import Scope
from tests import factories as f
from tests.test_import_relations import CADRE_HEADERS, PAIRING_HEADERS, workbook

DAY = datetime.date(2025, 7, 1)
LATER = datetime.date(2026, 6, 1)


def figures(rows: list[dict]) -> list[tuple]:
    return sorted(
        (
            row.get("child", ""),
            *(row[key] or 0 for key in ("cadres", "cadres_paired", "cadres_over", "cadres_under")),
        )
        for row in rows
    )


def helping(prefix: str, digits: int) -> dict:
    """The cadres holding an open pairing with a household of the region, per child region, recounted."""
    held = {}
    for cadre_id, village in Pairing.objects.open().values_list("cadre_id", "household__village_id"):
        if village.startswith(prefix):
            held.setdefault(village[:digits], set()).add(cadre_id)
    return {child: len(cadres) for child, cadres in held.items()}


def assert_counts_match(world, step=""):
    assert standings.kept() == standings.counted(), step
    for region in (world.province, world.city_a, world.county_a):
        scope, digits = Scope(prefix=region.prefix), len(region.prefix) + 2
        assert indicators.cadres_helping_rows(scope, None, digits) == helping(region.prefix, digits), step
        assert indicators.cadres_helping(scope) == len(
            {
                c
                for c, v in Pairing.objects.open().values_list("cadre_id", "household__village_id")
                if v.startswith(region.prefix)
            }
        ), step
    for region in (world.province, world.city_a, world.county_a, world.county_b, world.town_a):
        scope = Scope(prefix=region.prefix)
        for digits in (None, len(region.prefix) + 2, len(region.prefix) + 3, 12):
            assert figures(coverage.cadre_counts(scope, digits)) == figures(
                coverage.recounted_cadre_counts(scope, digits)
            ), (step, region.name, digits)


def admin_change(client, model: str, obj, **changes):
    """Saves an object through its admin change page, the form's own values with `changes`."""
    url = reverse(f"admin:pairing_{model}_change", args=[obj.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


@pytest.fixture
def busy(world):
    """Poor households in three villages, cadres of four units (a city's and a township's too), of
    every rank and some exempt categories; a city unit linking villages in both counties."""
    world.city_unit = f.unit(world.city_a, "定西市扶贫办", level="city")
    world.town_unit = f.unit(world.town_a, "马营镇政府", level="township")
    for unit in (world.city_unit, world.town_unit):
        f.link(unit, world.village_a)
    f.link(world.city_unit, world.village_b)
    f.link(world.unit_a, world.village_a2)
    world.households = [
        f.household(village, f"{village.name[:2]}{index}", members=1)
        for village in (world.village_a, world.village_a2, world.village_b)
        for index in range(5)
    ]
    ranks, categories = list(Cadre.Rank), [Cadre.Category.CIVIL_SERVANT, Cadre.Category.TEACHER]
    world.cadres = [world.cadre_a, world.cadre_b] + [
        f.cadre(unit, f"干部{index}", rank=ranks[index % 3], category=categories[index % 4 == 3])
        for index, unit in enumerate([world.unit_a, world.unit_b, world.city_unit, world.town_unit] * 2)
    ]
    return world


class Changes:
    """One random change of each kind; a refused change (a rule, a date) is a change too: nothing."""

    def __init__(self, world, client, rng):
        self.world, self.client, self.rng = world, client, rng
        client.force_login(world.users.admin)

    def cadre(self, active=True):
        cadres = Cadre.objects.filter(status=Cadre.Status.ACTIVE) if active else Cadre.objects.all()
        return self.rng.choice(list(cadres.order_by("pk")))

    def households(self, n=1):
        return self.rng.sample(list(Household.objects.order_by("pk")), n)

    def open_pairing(self):
        pairings = list(Pairing.objects.open().order_by("pk"))
        return self.rng.choice(pairings) if pairings else None

    def pair(self):
        role = self.rng.choice(list(Pairing.Role))
        services.pair(cadre=self.cadre(), household=self.households()[0], started_on=DAY, role=role)

    def pair_many(self):
        services.pair_many(cadre=self.cadre(), households=self.households(2), started_on=DAY)

    def end(self):
        pairing = self.open_pairing()
        if pairing:
            services.end_relation(relation=pairing, ended_on=LATER, reason=Pairing.EndReason.ADJUSTMENT)

    def hand_over(self):
        pairing = self.open_pairing()
        if pairing is None:
            return
        handover = services.start_handover(
            cadre=pairing.cadre,
            new_status=Cadre.Status.TRANSFERRED,
            effective_on=LATER,
            by=self.world.users.province,
        )
        for line in handover.lines.pending().select_related("pairing"):
            holding = Pairing.objects.open().filter(household=line.pairing.household_id).values("cadre_id")
            free = Cadre.objects.active().exclude(pk__in=holding).exclude(pk=pairing.cadre_id)
            line.successor = self.rng.choice(list(free.order_by("pk")))
            line.save(update_fields=["successor"])
        services.apply_handover(handover=handover, by=self.world.users.province)

    def propose(self):
        region = self.rng.choice([self.world.town_a, self.world.town_b])
        proposal = services.create_proposal(region=region, started_on=LATER, by=self.world.users.province)
        services.apply_proposal(proposal=proposal, by=self.world.users.province)

    def import_pairings(self):
        household = self.households()[0]
        cadre = self.rng.choice(
            list(Cadre.objects.filter(unit=self.world.unit_a, status=Cadre.Status.ACTIVE))
        )
        row = [
            cadre.unit.name,
            cadre.name,
            household.head_id_number,
            household.head_name,
            "联系户",
            "2026-03-01",
        ]
        import_pairings(workbook(PAIRING_HEADERS, [row]), user=self.world.users.county_a)

    def import_cadres(self):
        cadre = self.rng.choice(list(Cadre.objects.filter(unit=self.world.unit_a)))
        rank, category = self.rng.choice(list(Cadre.Rank)), self.rng.choice(list(Cadre.Category))
        status = self.rng.choice([Cadre.Status.ACTIVE, Cadre.Status.RETIRED])
        rows = [
            [1, cadre.unit.name, cadre.name, cadre.phone, "", rank, category, status],
            [2, cadre.unit.name, f"新干部{self.rng.randrange(10**6)}", "", "", rank, category, "在岗"],
        ]
        import_cadres(workbook(CADRE_HEADERS, rows), user=self.world.users.unit_a)

    def admin_cadre(self):
        cadre = self.cadre(active=False)
        changes = self.rng.choice(
            [
                {"rank": self.rng.choice(list(Cadre.Rank))},
                {"category": self.rng.choice(list(Cadre.Category))},
                {"unit": self.rng.choice([self.world.unit_a, self.world.city_unit, self.world.town_unit]).pk},
            ]
        )
        admin_change(self.client, "cadre", cadre, **changes)

    def admin_unit(self):
        unit = self.rng.choice([self.world.town_unit, self.world.unit_b])
        seat = self.rng.choice(
            [self.world.town_a, self.world.town_a2, self.world.county_b, self.world.city_a]
        )
        admin_change(self.client, "unit", unit, region=seat.code)

    def admin_delete(self):
        idle = f.cadre(self.world.unit_b, f"将删{self.rng.randrange(10**6)}")
        response = self.client.post(reverse("admin:pairing_cadre_delete", args=[idle.pk]), {"post": "yes"})
        assert response.status_code == 302 and not Cadre.objects.filter(pk=idle.pk).exists()

    def limit(self):
        county = self.rng.choice([self.world.county_a, self.world.county_b])
        rank = self.rng.choice(list(Cadre.Rank))
        if self.rng.random() < 0.3:
            RankLimit.objects.filter(county=county, rank=rank).delete()
            return
        max_poor = self.rng.randrange(0, 4)
        RankLimit.objects.update_or_create(
            county=county,
            rank=rank,
            defaults={
                "max_households": max_poor + self.rng.randrange(0, 3),
                "max_poor": max_poor,
                "min_poor": self.rng.randrange(0, max_poor + 1),
            },
        )

    def exemption(self):
        county = self.rng.choice([self.world.county_a, self.world.county_b])
        exempt = self.rng.sample(list(Cadre.Category), self.rng.randrange(0, 3))
        CountyRules.objects.update_or_create(county=county, defaults={"exempt_categories": exempt})

    def move(self):
        household = self.households()[0]
        village = self.rng.choice([self.world.village_a, self.world.village_a2, self.world.village_b])
        Household.objects.filter(pk=household.pk).update(village=village)
        moves.moved([household.pk])  # what each writer of a village does (households/moves.py)

    KINDS = (
        "pair",
        "pair_many",
        "end",
        "hand_over",
        "propose",
        "import_pairings",
        "import_cadres",
        "admin_cadre",
        "admin_unit",
        "admin_delete",
        "limit",
        "exemption",
        "move",
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_counts_equal_a_recount_after_random_changes(busy, client, seed):
    rng = random.Random(seed)
    changes = Changes(busy, client, rng)
    assert_counts_match(busy, "start")
    done = []
    for step in range(45):
        kind = Changes.KINDS[step] if step < len(Changes.KINDS) else rng.choice(Changes.KINDS)
        try:
            getattr(changes, kind)()
        except ValidationError:  # RuleBroken, NothingToPlace, a date: refused, nothing written
            pass
        done.append(kind)
        assert_counts_match(busy, f"step {step}: {kind}")
    assert set(done) == set(Changes.KINDS)
    # Some cadres are over or under their limits by now, so the figures were not all zero.
    totals = coverage.cadre_counts(Scope(prefix="62"))[0]
    assert totals["cadres"] and totals["cadres_paired"]


def test_a_lowered_limit_and_a_new_rank_count_at_once(busy):
    services.pair(cadre=busy.cadre_a, household=busy.households[0], started_on=DAY)
    scope = Scope(prefix=busy.county_a.prefix)
    assert coverage.cadre_counts(scope)[0]["cadres_over"] == 0
    RankLimit.objects.create(county=busy.county_a, rank=Cadre.Rank.STAFF, max_households=1, max_poor=1)
    assert coverage.cadre_counts(scope)[0]["cadres_over"] == 1  # no tally written: the limit is live
    Cadre.objects.filter(pk=busy.cadre_a.pk).update(rank=Cadre.Rank.SECTION)
    standings.restate([busy.cadre_a.pk])  # what the admin and the cadre import do after a rank change
    assert coverage.cadre_counts(scope)[0]["cadres_over"] == 0
    assert_counts_match(busy)


def test_a_cadre_across_two_counties_is_judged_by_the_more_lenient(busy):
    both = busy.cadres[4]  # of the city unit
    services.pair(cadre=both, household=busy.households[0], started_on=DAY)
    services.pair(cadre=both, household=busy.households[10], started_on=DAY)
    assert CadreStanding.objects.get(cadre=both).counties == f"{busy.county_a.code},{busy.county_b.code}"
    scope = Scope(prefix=busy.city_a.prefix)
    RankLimit.objects.create(county=busy.county_a, rank=both.rank, max_households=1, max_poor=1, min_poor=0)
    assert coverage.cadre_counts(scope)[0]["cadres_over"] == 0  # 东乡县 has the defaults, within them
    RankLimit.objects.create(county=busy.county_b, rank=both.rank, max_households=1, max_poor=1, min_poor=0)
    assert coverage.cadre_counts(scope)[0]["cadres_over"] == 1  # over every county's limit
    assert_counts_match(busy)


def test_the_command_rebuilds_the_counts(busy):
    services.pair(cadre=busy.cadres[4], household=busy.households[0], started_on=DAY)
    services.pair(cadre=busy.cadres[4], household=busy.households[10], started_on=DAY)
    StandingCount.objects.update(cadres=7)
    CadreStanding.objects.filter(cadre=busy.cadre_a).delete()
    assert standings.kept() != standings.counted()
    call_command("rebuild_pairing_tallies", stdout=io.StringIO())
    assert_counts_match(busy)


@pytest.mark.django_db
def test_generate_province_fills_the_counts():
    call_command("generate_province", scale=0.001, verbosity=0)
    standing, counts = standings.kept()
    assert counts and (standing, counts) == standings.counted()
