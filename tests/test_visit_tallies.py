"""The pre-aggregated visit figures (visits/tallies.py): kept exact by the services, rebuilt by the
command, and read by the worklists without ever giving a wrong figure for a past as-of date."""

import calendar
import datetime
import random
import threading
import uuid
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pairing.models import Pairing
from pairing.services import end_relation
from tests import factories as f
from tests.queries import count_queries
from visits import tallies, worklists
from visits.models import (
    HouseholdContact,
    UnitMonthTally,
    UnitVisit,
    UnitVisitTally,
    VillageMonthTally,
    Visit,
    VisitTally,
)
from visits.services import record_unit_visit, record_visit


def kept():
    """The three tables as plain data, to compare with a recount."""
    return (
        sorted(HouseholdContact.objects.values_list("household_id", "last_contacted_on")),
        sorted(
            VisitTally.objects.values_list(
                "cadre_id", "household_id", "year", "visits", "last_visited_on", *VisitTally.MONTHS
            )
        ),
        sorted(
            UnitVisitTally.objects.values_list("unit_id", "village_id", "year", "visits", "last_visited_on")
        ),
    )


def counted_from_visits():
    """The same figures counted here in Python from the Visit and UnitVisit rows."""
    visits = list(Visit.objects.all())
    last = {}
    for v in visits:
        last[v.household_id] = max(last.get(v.household_id, v.visited_on), v.visited_on)
    per_year = Counter((v.cadre_id, v.household_id, v.visited_on.year) for v in visits)
    per_month = Counter((v.cadre_id, v.household_id, v.visited_on.year, v.visited_on.month) for v in visits)
    latest = {}
    for v in visits:
        key = (v.cadre_id, v.household_id, v.visited_on.year)
        latest[key] = max(latest.get(key, v.visited_on), v.visited_on)
    unit_visits = list(UnitVisit.objects.all())
    unit_per_year = Counter((v.unit_id, v.village_id, v.visited_on.year) for v in unit_visits)
    unit_latest = {}
    for v in unit_visits:
        key = (v.unit_id, v.village_id, v.visited_on.year)
        unit_latest[key] = max(unit_latest.get(key, v.visited_on), v.visited_on)
    return (
        sorted(last.items()),
        sorted(
            (*key, n, latest[key], *(per_month[(*key, month)] for month in range(1, 13)))
            for key, n in per_year.items()
        ),
        sorted((*key, n, unit_latest[key]) for key, n in unit_per_year.items()),
    )


@pytest.fixture
def mixed(world):
    """Visits in two years and several modes through record_visit, some refused, one resubmitted."""
    clerk = world.users.town_a
    contact = f.cadre(world.unit_a, "周新来")
    f.pairing(contact, world.household_a, role=Pairing.Role.CONTACT)
    f.pairing(world.cadre_a, world.household_a2)
    key = uuid.uuid4()
    plan = [
        (world.household_a, world.cadre_a, datetime.date(2024, 11, 3), Visit.Mode.HOME, None),
        (world.household_a, world.cadre_a, datetime.date(2025, 2, 1), Visit.Mode.HOME, key),
        (world.household_a, world.cadre_a, datetime.date(2025, 2, 1), Visit.Mode.HOME, key),  # double click
        (world.household_a, world.cadre_a, datetime.date(2025, 2, 1), Visit.Mode.PHONE, None),
        (world.household_a, world.cadre_a, datetime.date(2025, 1, 9), Visit.Mode.SMS, None),  # entered late
        (world.household_a, contact, datetime.date(2025, 3, 5), Visit.Mode.HOME, None),
        (world.household_a2, world.cadre_a, datetime.date(2025, 7, 20), Visit.Mode.CONTACT_CARD, None),
        (world.household_b, world.cadre_b, datetime.date(2025, 6, 1), Visit.Mode.HOME, None),
    ]
    for household, cadre, day, mode, submission in plan:
        record_visit(
            household=household, cadre=cadre, visited_on=day, mode=mode, by=clerk, submission_key=submission
        )
    refusals = [
        dict(
            household=world.household_a,
            cadre=world.cadre_a,
            visited_on=datetime.date(2025, 2, 1),
            mode="入户走访",
        ),
        dict(
            household=world.household_b,
            cadre=world.cadre_a,
            visited_on=datetime.date(2025, 2, 2),
            mode="入户走访",
        ),
    ]
    for refused in refusals:  # a duplicate, and a cadre not paired with the household: nothing counted
        with pytest.raises(ValidationError):
            record_visit(by=clerk, **refused)
    for day in (datetime.date(2025, 4, 1), datetime.date(2025, 9, 1), datetime.date(2024, 12, 1)):
        record_unit_visit(
            unit=world.unit_a,
            village=world.village_a,
            visited_on=day,
            cadres=[world.cadre_a],
            activities="驻村",
            by=clerk,
        )
    return world


def test_record_visit_keeps_the_tallies_equal_to_a_recount(mixed):
    assert Visit.objects.count() == 7
    assert kept() == counted_from_visits()
    tally = VisitTally.objects.get(cadre=mixed.cadre_a, household=mixed.household_a, year=2025)
    assert (tally.visits, tally.last_visited_on) == (
        3,
        datetime.date(2025, 2, 1),
    )  # the late SMS did not move it back
    assert HouseholdContact.objects.get(household=mixed.household_a).last_contacted_on == datetime.date(
        2025, 3, 5
    )
    before = kept()
    tallies.rebuild()
    assert kept() == before


def test_each_user_sees_the_figures_of_their_own_scope(mixed):
    users = mixed.users
    households = {
        user: set(
            HouseholdContact.objects.visible_to(getattr(users, user)).values_list("household_id", flat=True)
        )
        for user in ("province", "county_a", "town_b", "unit_a", "unit_b")
    }
    side_a = {mixed.household_a.pk, mixed.household_a2.pk}
    assert households == {
        "province": side_a | {mixed.household_b.pk},
        "county_a": side_a,
        "town_b": {mixed.household_b.pk},
        "unit_a": side_a,
        "unit_b": {mixed.household_b.pk},
    }
    assert set(VisitTally.objects.visible_to(users.unit_a).values_list("cadre__name", flat=True)) == {
        "李文华",
        "周新来",
    }
    assert [t.household_id for t in VisitTally.objects.visible_to(users.town_b)] == [mixed.household_b.pk]
    assert UnitVisitTally.objects.visible_to(users.unit_a).count() == 2  # 2024 and 2025
    assert not UnitVisitTally.objects.visible_to(users.unit_b).exists()
    assert not UnitVisitTally.objects.visible_to(users.town_b).exists()


def test_rebuild_command_repairs_and_is_idempotent(mixed):
    right = kept()
    VisitTally.objects.update(visits=99)
    HouseholdContact.objects.filter(household=mixed.household_a).delete()
    UnitVisitTally.objects.all().delete()
    call_command("rebuild_visit_tallies", "--dry-run", verbosity=0)
    assert kept() != right  # a dry run writes nothing
    call_command("rebuild_visit_tallies", verbosity=0)
    assert kept() == right
    call_command("rebuild_visit_tallies", verbosity=0)
    assert kept() == right


def test_rebuild_of_some_households_leaves_the_others(mixed):
    VisitTally.objects.filter(household=mixed.household_b).update(visits=99)
    VisitTally.objects.filter(household=mixed.household_a).update(visits=77)
    tallies.rebuild(household_ids=[mixed.household_a.pk])
    assert VisitTally.objects.get(household=mixed.household_b).visits == 99
    assert VisitTally.objects.get(household=mixed.household_a, cadre=mixed.cadre_a, year=2025).visits == 3


def test_a_past_as_of_date_reads_the_visits_not_the_later_tally(mixed):
    """Household A was last contacted on 5 March 2025; as of 8 January only the visits up to then count."""
    user = mixed.users.county_a
    quotas = worklists.Quotas.load()
    uncontacted = {
        h.pk: h.last_visit for h in worklists.uncontacted_this_quarter(user, datetime.date(2025, 1, 8))
    }
    assert uncontacted[mixed.household_a.pk] == datetime.date(2024, 11, 3)  # not the kept 5 March
    stale = {h.pk for h in worklists.stale_households(user, datetime.date(2025, 1, 8))}
    assert mixed.household_a.pk not in stale  # visited on 3 November, within 90 days
    for kind, listed in (
        ("quarter", uncontacted),
        ("stale", stale),
    ):  # the province's count, from HouseholdContact
        by_county = dict(worklists.per_county(mixed.users.province, datetime.date(2025, 1, 8), kind, quotas))
        assert by_county.get(mixed.county_a.code[:6], 0) == len(listed), kind
    behind = {
        (p.cadre_id, p.household_id): p.done
        for p in worklists.pairings_behind(user, datetime.date(2025, 4, 30), quotas)
    }
    assert behind[(mixed.cadre_a.pk, mixed.household_a2.pk)] == 0  # its only visit is in July
    later = {
        (p.cadre_id, p.household_id): p.done
        for p in worklists.pairings_behind(user, datetime.date(2025, 12, 31), quotas)
    }
    assert (mixed.cadre_a.pk, mixed.household_a.pk) in later and later[
        (mixed.cadre_a.pk, mixed.household_a.pk)
    ] == 3
    links = {
        link.village_id: link.done
        for link in worklists.links_behind(user, datetime.date(2025, 5, 31), quotas)
    }
    assert links[mixed.village_a.code] == 1  # April's visit only: September's is after the as-of date


# --- The months of VisitTally: past month ends read without counting visits -------------------


@pytest.fixture
def random_writes(world):
    """Visits saved through record_visit at random (seeded) over five quarters, by the cadres in
    force each day: household A2 changes cadre at the end of June, household A has a contact
    cadre besides its responsible one. Saves refused (a cadre not paired that day, a duplicate)
    count nowhere."""
    rng = random.Random(8)
    contact = f.cadre(world.unit_a, "周新来")
    newcomer = f.cadre(world.unit_a, "孙立")
    f.pairing(contact, world.household_a, role=Pairing.Role.CONTACT)
    leaving = f.pairing(world.cadre_a, world.household_a2)
    end_relation(relation=leaving, ended_on=datetime.date(2025, 7, 1), reason=Pairing.EndReason.TRANSFER)
    f.pairing(newcomer, world.household_a2, started_on=datetime.date(2025, 7, 1))
    cadres = [world.cadre_a, world.cadre_b, contact, newcomer]
    households = [world.household_a, world.household_a2, world.household_b]
    first = datetime.date(2024, 10, 1)
    for _ in range(150):
        household = rng.choice(households)
        day = first + datetime.timedelta(days=rng.randrange(457))
        in_force = [p.cadre for p in Pairing.objects.on(day).filter(household=household)]
        try:
            record_visit(
                household=household,
                cadre=rng.choice(in_force if rng.random() < 0.85 else cadres),
                visited_on=day,
                mode=rng.choice(list(Visit.Mode)),
                by=world.users.admin,
            )
        except ValidationError:
            pass
    assert Visit.objects.filter(visited_on__year=2025).count() > 60
    return world


def test_the_month_columns_equal_a_recount_after_random_writes(random_writes):
    assert kept() == counted_from_visits()
    assert {day.month for day in Visit.objects.values_list("visited_on", flat=True)} == set(range(1, 13))
    tallies.rebuild()
    assert kept() == counted_from_visits()


def _month_ends(year):
    return [datetime.date(year, month, calendar.monthrange(year, month)[1]) for month in range(1, 13)]


def test_behind_quota_at_a_month_end_reads_the_months_and_equals_a_plain_count(random_writes):
    user = random_writes.users.province
    quotas = worklists.Quotas.load()
    visits = list(Visit.objects.all())
    for on in [*_month_ends(2025), datetime.date(2025, 5, 17), datetime.date(2025, 11, 3)]:
        expected = {}
        for pairing in Pairing.objects.on(on):
            done = sum(
                1
                for v in visits
                if (v.cadre_id, v.household_id) == (pairing.cadre_id, pairing.household_id)
                and datetime.date(on.year, 1, 1) <= v.visited_on <= on
            )
            if done < worklists.owed_by(on, 4, pairing.started_on):
                expected[(pairing.cadre_id, pairing.household_id)] = done
        with CaptureQueriesContext(connection) as queries:
            behind = {
                (p.cadre_id, p.household_id): p.done for p in worklists.pairings_behind(user, on, quotas)
            }
        assert behind == expected, on
        reads_visits = any('"visits_visit"' in query["sql"] for query in queries.captured_queries)
        assert reads_visits == (on.day not in (28, 30, 31)), on  # a month's end: the tallies alone


def test_households_reached_in_whole_months_equal_a_plain_count(random_writes):
    visits = list(Visit.objects.all())
    for first_month, last_month in [(1, 3), (4, 6), (7, 9), (10, 12), (5, 5), (1, 12), (11, 12)]:
        first = datetime.date(2025, first_month, 1)
        last = _month_ends(2025)[last_month - 1]
        expected = {v.household_id for v in visits if first <= v.visited_on <= last}
        reached = set(tallies.reached(first, last).values_list("household_id", flat=True))
        assert reached == expected, (first_month, last_month)
    assert tallies.reached(datetime.date(2025, 4, 1), datetime.date(2025, 5, 17)) is None  # not whole months
    assert tallies.reached(datetime.date(2025, 4, 2), datetime.date(2025, 6, 30)) is None
    today = timezone.localdate()
    assert tallies.month_span(today.replace(month=1, day=1), today) == (today.year, 1, today.month)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
def test_two_visits_saved_at_once_both_count(world):
    contact = f.cadre(world.unit_a, "周新来")
    f.pairing(contact, world.household_a, role=Pairing.Role.CONTACT)
    day = datetime.date(2025, 5, 6)
    start = threading.Barrier(4)
    errors = []

    def visit(cadre, mode):
        try:
            start.wait()
            record_visit(
                household=world.household_a, cadre=cadre, visited_on=day, mode=mode, by=world.users.town_a
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=visit, args=args)
        for args in [
            (world.cadre_a, "入户走访"),
            (world.cadre_a, "电话"),
            (contact, "入户走访"),
            (contact, "短信"),
        ]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert VisitTally.objects.get(cadre=world.cadre_a, household=world.household_a, year=2025).visits == 2
    assert VisitTally.objects.get(cadre=contact, household=world.household_a, year=2025).visits == 2
    assert kept() == counted_from_visits()
    # Four first visits of the month at once: the household is reached once in each month row
    # (the upserts see each other's visits through the household's contact row lock).
    monthly = {model: tallies.monthly_recount(model) for model in (VillageMonthTally, UnitMonthTally)}
    for model, rows in monthly.items():
        (row,) = rows.values()
        assert (row["households_contacted"], row["home_visits"], row["contacts"]) == (1, 2, 2), model
    tallies.rebuild_monthly()
    assert {model: tallies.monthly_recount(model) for model in monthly} == monthly


# --- the province's and a city's lists, per county ---------------------------------------------


def test_wide_lists_show_each_county_with_a_link_to_its_live_list(client, mixed):
    on = "2025-12-31"
    for kind in worklists.KINDS:
        client.force_login(mixed.users.county_a)
        county_list = client.get(reverse("visits:worklist", args=[kind]), {"on": on})
        for username in ("province", "city_a"):
            client.force_login(getattr(mixed.users, username))
            page = client.get(reverse("visits:worklist", args=[kind]), {"on": on})
            rows = {county.code: n for county, n in page.context["by_county"]}
            listed = county_list.context["page"]
            figure = len({link.unit_id for link in listed}) if kind == "units" else listed.paginator.count
            assert rows.get(mixed.county_a.code, 0) == figure, (kind, username)
            narrowed = client.get(
                reverse("visits:worklist", args=[kind]), {"on": on, "region": mixed.county_a.code}
            )
            assert list(narrowed.context["page"]) == list(county_list.context["page"]), (kind, username)
            if figure:
                assert f"region={mixed.county_a.code}" in page.content.decode()


def test_narrowing_outside_the_scope_is_not_found(client, mixed):
    url = reverse("visits:worklist", args=["stale"])
    client.force_login(mixed.users.city_b)
    assert client.get(url, {"region": mixed.county_a.code}).status_code == 404
    assert (
        client.get(url, {"region": mixed.village_b.code}).status_code == 404
    )  # a village is not a county or township
    client.force_login(mixed.users.county_a)
    assert client.get(url, {"region": mixed.town_a.code}).status_code == 200


@pytest.mark.parametrize("kind", worklists.KINDS)
def test_wide_list_query_count_is_fixed(client, world, kind):
    url = reverse("visits:worklist", args=[kind]) + "?on=2025-12-31&refresh=1"
    client.force_login(world.users.province)
    few = count_queries(client, url)
    for index in range(6):
        household = f.household(world.village_b if index % 2 else world.village_a, f"户{index}")
        f.pairing(f.cadre(world.unit_a, f"干部{index}"), household)
    assert count_queries(client, url) == few
