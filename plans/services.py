"""Saving plans: each save updates the plan and writes its version row, in one transaction."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from households.models import Household, Region
from pairing.models import VillageLink
from shuanglian.lib import dates
from shuanglian.lib.history import recorded
from shuanglian.lib.versions import StaleVersion, claim_version

from .models import HouseholdPlan, HouseholdPlanVersion, VillagePlan, VillagePlanVersion


def check_plannable_village(village: Region) -> None:
    """Village plans are for poor villages that a unit links now."""
    if village.level != Region.Level.VILLAGE or not village.is_poor:
        raise ValidationError(_("%(village)s 不是贫困村，不制定村帮扶计划") % {"village": village})
    if not VillageLink.objects.open().filter(village=village).exists():
        raise ValidationError(_("%(village)s 尚无联村单位，请先安排联村单位") % {"village": village})


def _save(*, plan, version_model, data: dict, expected_version: int | None, by):
    before = (plan if plan.pk else type(plan)()).snapshot()
    for name, value in data.items():
        setattr(plan, name, value)
    after = plan.snapshot()
    changed = [name for name in plan.TRACKED_FIELDS if before.get(name) != after[name]]
    if plan.pk and not changed:
        # Nothing to write, whatever version the form was opened on: the plan (locked by the
        # caller) already holds every value sent, as after the first press of a double click.
        return plan, None
    # None: a caller that edits no form (the demo); the pages always send the version they showed.
    if expected_version is not None:
        if plan.pk:
            claim_version(plan, expected_version)  # atomic: holds the row until this save commits
        elif expected_version != 0:  # no plan yet: only a form opened on none (version 0) creates it
            raise StaleVersion()
    plan.updated_by = by
    try:
        with transaction.atomic():
            plan.save()  # moves the version on
    except IntegrityError:  # someone created this year's plan in the meantime
        raise StaleVersion() from None
    version = version_model.objects.create(
        plan=plan, number=plan.version, data=after, changed_fields=changed, changed_by=by
    )
    return plan, version


@recorded
@transaction.atomic
def save_village_plan(*, village: Region, year: int, data: dict, by, expected_version: int | None = None):
    """Create or update the village's plan for `year`; returns (plan, new version or None if unchanged)."""
    dates.check_year(year, _("计划年度"))
    check_plannable_village(village)
    plan = VillagePlan.objects.select_for_update().filter(village=village, year=year).first()
    plan = plan or VillagePlan(village=village, year=year)
    return _save(
        plan=plan, version_model=VillagePlanVersion, data=data, expected_version=expected_version, by=by
    )


@recorded
@transaction.atomic
def save_household_plan(
    *, household: Household, year: int, data: dict, by, expected_version: int | None = None
):
    """Create or update the household's plan for `year`; returns (plan, new version or None if unchanged)."""
    dates.check_year(year, _("计划年度"))
    plan = HouseholdPlan.objects.select_for_update().filter(household=household, year=year).first()
    plan = plan or HouseholdPlan(household=household, year=year)
    return _save(
        plan=plan, version_model=HouseholdPlanVersion, data=data, expected_version=expected_version, by=by
    )
