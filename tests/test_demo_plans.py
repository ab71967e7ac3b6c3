"""load_demo's plans and households working away: present, consistent, written once."""

import io

import pytest
from django.core.management import call_command

from households.models import Household
from plans.models import HouseholdPlan, HouseholdPlanVersion, VillagePlan, VillagePlanVersion


def snapshot():
    return {
        "village_plans": sorted(
            VillagePlan.objects.values_list("village_id", "year", "version", "leading_industry")
        ),
        "household_plans": sorted(HouseholdPlan.objects.values_list("household__head_id_number", "version")),
        "versions": (VillagePlanVersion.objects.count(), HouseholdPlanVersion.objects.count()),
        "away": sorted(
            Household.objects.filter(working_away=True).values_list("head_id_number", "working_away_place")
        ),
    }


@pytest.mark.django_db
def test_demo_plans_are_deterministic_and_written_once():
    output = io.StringIO()
    call_command("load_demo", stdout=output)
    first = snapshot()
    assert "村帮扶计划" in output.getvalue()
    assert len(first["village_plans"]) >= 10 and len(first["household_plans"]) == 80
    assert any(version > 1 for *_, version, _ in first["village_plans"])  # some history to show
    assert len(first["away"]) >= 20
    for plan in VillagePlan.objects.select_related("village"):
        assert plan.village.is_poor and plan.village.village_links.filter(ended_on__isnull=True).exists()
    for plan in HouseholdPlan.objects.select_related("household"):
        assert plan.household.is_poor and plan.measures

    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "演示帮扶计划已存在，未写入" in again.getvalue()
    assert snapshot() == first
