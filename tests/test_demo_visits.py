"""The demo's year of visits: dated back from the day of loading, consistent with the visit rules,
entered by the townships' own clerks at believable times, idempotent, and every worklist has rows."""

import datetime
import random

import pytest
from django.core.management import call_command
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from demo.dates import Calendar
from demo.units import MAYING
from households.models import Household
from pairing.models import Pairing, VillageLink
from visits import worklists
from visits.models import LockedMonth, UnitVisit, Visit


@pytest.mark.django_db
def test_demo_visits_follow_the_rules_and_load_once():
    call_command("load_demo", verbosity=0)
    today = timezone.localdate()
    first = sorted(
        Visit.objects.values_list("household__head_id_number", "cadre__name", "visited_on", "mode")
    )
    assert len(first) > 20_000
    call_command("load_demo", verbosity=0)
    assert (
        sorted(Visit.objects.values_list("household__head_id_number", "cadre__name", "visited_on", "mode"))
        == first
    )

    # Every visit by a cadre paired with the household that day; every unit visit in a linked village.
    in_force = Q(started_on__lte=OuterRef("visited_on")) & (
        Q(ended_on=None) | Q(ended_on__gt=OuterRef("visited_on"))
    )
    paired = Pairing.objects.filter(in_force, cadre=OuterRef("cadre_id"), household=OuterRef("household_id"))
    assert not Visit.objects.filter(~Exists(paired)).exists()
    linked = VillageLink.objects.filter(in_force, unit=OuterRef("unit_id"), village=OuterRef("village_id"))
    assert not UnitVisit.objects.filter(~Exists(linked)).exists()
    assert not UnitVisit.objects.annotate(n=Count("cadres")).filter(n=0).exists()
    assert Visit.objects.contacts().exists() and Visit.objects.home_visits().exists()

    # Dated in the year up to yesterday, wherever the calendar stands.
    for model in (Visit, UnitVisit):
        days = model.objects.values_list("visited_on", flat=True)
        assert max(days) < today and min(days) > today - datetime.timedelta(days=366)
    assert not Pairing.objects.filter(started_on__gt=today).exists()
    assert not Pairing.objects.filter(ended_on__gte=today).exists()

    quotas = worklists.Quotas.load()
    for username in ("tongwei_town", "dongxiang_unit", "province"):
        counts = worklists.counts(User.objects.get(username=username), today, quotas)
        assert all(counts.values()), (username, counts)


@pytest.mark.django_db
def test_most_paired_poor_households_of_a_fresh_demo_were_visited_in_the_last_90_days():
    call_command("load_demo", verbosity=0)
    since = timezone.localdate() - datetime.timedelta(days=90)
    paired = Household.objects.poor().filter(
        Exists(Pairing.objects.open().responsible().filter(household=OuterRef("pk")))
    )
    recent = paired.filter(Exists(Visit.objects.filter(household=OuterRef("pk"), visited_on__gte=since)))
    share = recent.count() / paired.count()
    assert paired.count() > 2000
    assert 0.7 < share < 0.97, share  # most, not all: the worklist of households not visited has rows


@pytest.mark.django_db
def test_demo_records_are_entered_by_their_township_clerk_at_believable_times():
    call_command("load_demo", verbosity=0)
    now = timezone.now()
    for model, village in ((Visit, "household__village_id"), (UnitVisit, "village_id")):
        rows = list(
            model.objects.values_list(
                village,
                "visited_on",
                "recorded_at",
                "recorded_by__role",
                "recorded_by__region_id",
                "recorded_by__first_name",
            )
        )
        delays = set()
        for village_code, day, entered, role, region, name in rows:
            assert role == User.Role.TOWNSHIP and region == village_code[:9] + "000", (village_code, region)
            assert len(name) >= 2 and not name.isascii(), name  # a person named in Chinese, not a login
            entered_on = timezone.localtime(entered).date()
            assert day <= entered_on and entered <= now
            delays.add((entered_on - day).days)
        assert 0 in delays and max(delays) >= 2, delays  # that evening, or a few days later
    # The demo township's records carry its clerk's name, as the header and histories show it.
    town = User.objects.get(username="tongwei_town")
    assert town.get_full_name() == "常晓燕" and town.acting_as == "马营镇 常晓燕"
    assert Visit.objects.filter(recorded_by=town).exists()


def test_entry_times_are_deterministic_and_never_reach_the_day_of_loading():
    calendar = Calendar(datetime.date(2026, 3, 1))

    def times(seed):
        rng = random.Random(seed)
        days = [calendar.slot_day(rng, slot) for slot in range(12) for _ in range(50)]
        return [(day, calendar.entered_at(rng, day)) for day in days]

    first = times("a")
    assert first == times("a") and first != times("b")
    start_of_today = timezone.make_aware(datetime.datetime(2026, 3, 1))
    for day, entered in first:
        assert calendar.first_visit_day <= day <= calendar.yesterday
        local = timezone.localtime(entered)
        assert day <= local.date() <= day + datetime.timedelta(days=4) and entered < start_of_today
        assert 8 <= local.hour < 22  # office hours, or that evening


@pytest.mark.django_db
def test_demo_writes_no_visit_into_a_locked_month():
    call_command("load_regions", verbosity=0)
    month = (timezone.localdate() - datetime.timedelta(days=45)).replace(day=1)
    LockedMonth.objects.create(region_id=MAYING, month=month)
    call_command("load_demo", verbosity=0)
    in_month = Q(visited_on__year=month.year, visited_on__month=month.month)
    assert not Visit.objects.filter(in_month, household__village__code__startswith=MAYING[:9]).exists()
    assert not UnitVisit.objects.filter(in_month, village__code__startswith=MAYING[:9]).exists()
    assert Visit.objects.filter(in_month).exists()  # other townships' months are open
    assert Visit.objects.filter(household__village__code__startswith=MAYING[:9]).exists()
