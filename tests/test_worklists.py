"""Worklists and quotas: every figure checked against a count computed here in plain Python."""

import datetime
import math
import random

import pytest
from django.urls import reverse

from pairing.models import Pairing, VillageLink
from pairing.services import end_relation
from tests import factories as f
from tests.queries import count_queries
from visits import tallies, worklists
from visits.models import UnitVisit, Visit, VisitQuota

DATES = [
    datetime.date(2025, 3, 31),
    datetime.date(2025, 6, 30),
    datetime.date(2025, 8, 15),
    datetime.date(2025, 12, 31),
    datetime.date(2024, 12, 31),
]
MODES = [Visit.Mode.HOME, Visit.Mode.HOME, Visit.Mode.PHONE, Visit.Mode.CONTACT_CARD]


@pytest.fixture
def busy(world):
    """Households in two townships of county A with pairings started at different dates (one handed over
    mid-year), a year of irregular visits and unit visits, and county A's own household quota of 6."""
    rng = random.Random(6)
    second = f.cadre(world.unit_a, "周新来")
    other_unit = f.unit(world.county_a, "通渭县水务局", level="county")
    third = f.cadre(other_unit, "陈晓东")
    f.link(other_unit, world.village_a2, started_on=datetime.date(2025, 5, 1))
    f.link(world.unit_a, world.village_a2, started_on=datetime.date(2025, 2, 10))
    households = [world.household_a, world.household_a2]
    f.pairing(third, world.household_a2, started_on=datetime.date(2025, 5, 1))
    for index in range(10):
        village = world.village_a if index % 2 else world.village_a2
        household = f.household(village, f"户{index}")
        cadre = (world.cadre_a, second, third)[index % 3]
        started = [f.START, datetime.date(2025, 4, 15), datetime.date(2025, 7, 1)][index % 3]
        if cadre == third and village == world.village_a:
            cadre = second
        f.pairing(cadre, household, started_on=started)
        households.append(household)
    handed = Pairing.objects.filter(household=households[3]).get()
    end_relation(relation=handed, ended_on=datetime.date(2025, 6, 10), reason="调动")
    f.pairing(world.cadre_a, households[3], started_on=datetime.date(2025, 6, 10))
    clerk = world.users.town_a
    for pairing in Pairing.objects.exclude(household=world.household_b):
        for _ in range(rng.randrange(0, 9)):
            day = datetime.date(2025, 1, 1) + datetime.timedelta(days=rng.randrange(365))
            if day < pairing.started_on or (pairing.ended_on and day >= pairing.ended_on):
                continue
            Visit.objects.get_or_create(
                household=pairing.household,
                cadre=pairing.cadre,
                visited_on=day,
                mode=rng.choice(MODES),
                defaults={"recorded_by": clerk},
            )
    for link in VillageLink.objects.all():
        for _ in range(rng.randrange(0, 7)):
            day = max(link.started_on, datetime.date(2025, 1, 1)) + datetime.timedelta(
                days=rng.randrange(200)
            )
            visit, _ = UnitVisit.objects.get_or_create(
                unit=link.unit,
                village=link.village,
                visited_on=day,
                defaults={"activities": "驻村", "recorded_by": clerk},
            )
            visit.cadres.set(link.unit.cadres.all()[:1])
    VisitQuota.objects.create(county=world.county_a, household_visits_per_year=6)
    tallies.rebuild()  # the visits above were written directly, as a bulk writer would
    return world


# --- the independent count -------------------------------------------------------------------


def owed(per_year, started, on):
    year_start = datetime.date(on.year, 1, 1)
    days = (datetime.date(on.year + 1, 1, 1) - year_start).days
    elapsed = (on - max(started, year_start)).days + 1
    return math.floor(per_year * elapsed / days)


def in_force(relation, on):
    return relation.started_on <= on and (relation.ended_on is None or relation.ended_on > on)


def in_scope(user, code, unit_id):
    if user.role == "unit":
        return unit_id == user.unit_id
    return user.is_superuser or code.startswith(user.region_id.rstrip("0"))


def expected(user, on):
    quotas = {q.county_id[:6]: q for q in VisitQuota.objects.all()}
    visits = list(Visit.objects.all())
    pairings = [
        p
        for p in Pairing.objects.select_related("household", "cadre")
        if in_force(p, on) and in_scope(user, p.household.village_id, p.cadre.unit_id)
    ]
    households = {p.household_id for p in pairings}

    def contacted_since(household, since):
        return any(v.household_id == household and since <= v.visited_on <= on for v in visits)

    stale = {h for h in households if not contacted_since(h, on - datetime.timedelta(days=89))}
    quarter = datetime.date(on.year, (on.month - 1) // 3 * 3 + 1, 1)
    uncontacted = {h for h in households if not contacted_since(h, quarter)}
    year_start = datetime.date(on.year, 1, 1)
    cadres = set()
    for p in pairings:
        quota = quotas.get(p.household.village_id[:6])
        per_year = quota.household_visits_per_year if quota else 4
        done = sum(
            1
            for v in visits
            if (v.cadre_id, v.household_id) == (p.cadre_id, p.household_id)
            and year_start <= v.visited_on <= on
        )
        if done < owed(per_year, p.started_on, on):
            cadres.add(p.cadre_id)
    unit_visits = list(UnitVisit.objects.all())
    units, links = set(), set()
    for link in VillageLink.objects.all():
        if not in_force(link, on) or not in_scope(user, link.village_id, link.unit_id):
            continue
        quota = quotas.get(link.village_id[:6])
        per_year = quota.village_visits_per_year if quota else 6
        done = sum(
            1
            for v in unit_visits
            if (v.unit_id, v.village_id) == (link.unit_id, link.village_id)
            and year_start <= v.visited_on <= on
        )
        if done < owed(per_year, link.started_on, on):
            units.add(link.unit_id)
            links.add(link.pk)
    return {"stale": stale, "quarter": uncontacted, "cadres": cadres, "units": units, "links": links}


@pytest.mark.parametrize(
    "username", ["admin", "province", "city_a", "county_a", "town_a", "unit_a", "town_b"]
)
def test_worklists_agree_with_an_independent_count(busy, username):
    user = getattr(busy.users, username)
    quotas = worklists.Quotas.load()
    for on in DATES:
        want = expected(user, on)
        assert worklists.counts(user, on, quotas) == {
            k: len(want[k]) for k in ("stale", "quarter", "cadres", "units")
        }
        assert {h.pk for h in worklists.stale_households(user, on)} == want["stale"], on
        assert {h.pk for h in worklists.uncontacted_this_quarter(user, on)} == want["quarter"], on
        assert {row["cadre_id"] for row in worklists.cadres_behind(user, on, quotas)} == want["cadres"], on
        assert {link.pk for link in worklists.links_behind(user, on, quotas)} == want["links"], on
    if username in ("county_a", "town_a"):
        assert any(expected(user, on)["cadres"] for on in DATES)  # the data exercises every list
        assert any(expected(user, on)["stale"] for on in DATES)
        assert any(expected(user, on)["units"] for on in DATES)


def test_pro_rata_expression_matches_the_definition_day_by_day(world):
    starts = [datetime.date(2023, 5, 1), datetime.date(2024, 2, 29), datetime.date(2024, 7, 15)]
    pairings = [
        f.pairing(f.cadre(world.unit_a, f"干部{i}"), f.household(world.village_a, f"农户{i}"), started_on=s)
        for i, s in enumerate(starts)
    ]
    for per_year in (1, 4, 6, 12):
        for on in [datetime.date(2024, 1, 1) + datetime.timedelta(days=d) for d in range(0, 366, 7)]:
            got = dict(
                Pairing.objects.filter(pk__in=[p.pk for p in pairings])
                .on(on)
                .annotate(owed=worklists._owed(on, per_year, "started_on"))
                .values_list("pk", "owed")
            )
            assert got == {p.pk: owed(per_year, p.started_on, on) for p in pairings if in_force(p, on)}, (
                per_year,
                on,
            )
            assert all(
                worklists.owed_by(on, per_year, p.started_on) == got[p.pk] for p in pairings if p.pk in got
            )


def test_worklist_pages_show_counts_and_link_to_the_lists(client, busy):
    client.force_login(busy.users.town_a)
    page = client.get(reverse("visits:worklists"), {"on": "2025-08-15"})
    want = expected(busy.users.town_a, datetime.date(2025, 8, 15))
    assert page.context["counts"]["cadres"] == len(want["cadres"])
    body = page.content.decode()
    assert reverse("visits:worklist", args=["stale"]) + "?on=2025-08-15" in body
    listing = client.get(reverse("visits:worklist", args=["stale"]), {"on": "2025-08-15"})
    assert listing.context["page"].paginator.count == len(want["stale"])
    assert client.get(reverse("visits:worklist", args=["nonsense"])).status_code == 404
    future = client.get(reverse("visits:worklists"), {"on": "2999-01-01"})
    assert future.context["on"] == datetime.date.today()


@pytest.mark.parametrize("kind", [None, *worklists.KINDS])
def test_worklist_query_counts_are_fixed(client, world, kind):
    url = reverse("visits:worklists") if kind is None else reverse("visits:worklist", args=[kind])
    url += "?on=2025-12-31"
    client.force_login(world.users.county_a)
    few = count_queries(client, url)
    for index in range(12):
        household = f.household(world.village_a, f"户{index}")
        f.pairing(f.cadre(world.unit_a, f"干部{index}"), household)
    VisitQuota.objects.create(county=world.county_a, village_visits_per_year=8)
    assert count_queries(client, url) == few


def test_province_and_city_summaries_are_cached_and_counties_are_live(client, busy):
    on = datetime.date(2025, 12, 31)
    url = reverse("visits:worklists") + "?on=2025-12-31"
    stale_before = {}
    for username in ("province", "city_a", "county_a"):
        client.force_login(getattr(busy.users, username))
        page = client.get(url)
        want = expected(getattr(busy.users, username), on)
        assert page.context["counts"] == {k: len(want[k]) for k in ("stale", "quarter", "cadres", "units")}
        assert ("立即重新统计" in page.content.decode()) == (username != "county_a")
        stale_before[username] = page.context["counts"]["stale"]
    f.pairing(busy.cadre_a, f.household(busy.village_a, "新增未访"))  # paired, never visited: stale

    client.force_login(busy.users.county_a)
    assert client.get(url).context["counts"]["stale"] == stale_before["county_a"] + 1
    for username in ("province", "city_a"):
        client.force_login(getattr(busy.users, username))
        cached = client.get(url)
        assert cached.context["counts"]["stale"] == stale_before[username]
        assert cached.context["counted_at"] is not None
        assert count_queries(client, url) < count_queries(client, url + "&refresh=1")
        assert client.get(url + "&refresh=1").context["counts"]["stale"] == stale_before[username] + 1
        assert client.get(url).context["counts"]["stale"] == stale_before[username] + 1  # the recount is kept
    client.force_login(busy.users.province)
    other_day = client.get(reverse("visits:worklists") + "?on=2025-08-15")  # each as-of date counted apart
    assert other_day.context["counts"]["stale"] == len(
        expected(busy.users.province, datetime.date(2025, 8, 15))["stale"]
    )
