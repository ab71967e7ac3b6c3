"""The demo's year of visits: consistent with the visit rules, idempotent, and every worklist has rows."""

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Count, Exists, OuterRef, Q

from accounts.models import User
from pairing.models import Pairing, VillageLink
from visits import worklists
from visits.models import UnitVisit, Visit

ON = datetime.date(2025, 12, 31)


@pytest.mark.django_db
def test_demo_visits_follow_the_rules_and_load_once():
    call_command("load_demo", verbosity=0)
    first = sorted(Visit.objects.values_list("household__head_id_number", "cadre__name", "visited_on", "mode"))
    assert len(first) > 20_000
    call_command("load_demo", verbosity=0)
    assert sorted(Visit.objects.values_list("household__head_id_number", "cadre__name", "visited_on", "mode")) == first

    # Every visit by a cadre paired with the household that day; every unit visit in a linked village.
    in_force = Q(started_on__lte=OuterRef("visited_on")) & (Q(ended_on=None) | Q(ended_on__gt=OuterRef("visited_on")))
    paired = Pairing.objects.filter(in_force, cadre=OuterRef("cadre_id"), household=OuterRef("household_id"))
    assert not Visit.objects.filter(~Exists(paired)).exists()
    linked = VillageLink.objects.filter(in_force, unit=OuterRef("unit_id"), village=OuterRef("village_id"))
    assert not UnitVisit.objects.filter(~Exists(linked)).exists()
    assert not UnitVisit.objects.annotate(n=Count("cadres")).filter(n=0).exists()
    assert Visit.objects.contacts().exists() and Visit.objects.home_visits().exists()
    town = User.objects.get(username="tongwei_town")
    assert Visit.objects.filter(recorded_by=town).exists()  # entered by township staff on the cadres' behalf

    quotas = worklists.Quotas.load()
    for username in ("tongwei_town", "dongxiang_unit", "province"):
        counts = worklists.counts(User.objects.get(username=username), ON, quotas)
        assert all(counts.values()), (username, counts)
