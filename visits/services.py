"""Recording visits: the refusals that keep the diary honest live here, in one place."""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pairing.models import Pairing, VillageLink
from shuanglian.access import LEVEL_DIGITS
from shuanglian.lib import dates

from . import tallies
from .models import LockedMonth, UnitVisit, Visit


def is_month_locked(village_code: str, day: datetime.date) -> bool:
    """Whether an approved report for the village's township, county, city or province counted this month."""
    regions = [village_code[:digits].ljust(12, "0") for digits in LEVEL_DIGITS.values()]
    return LockedMonth.objects.filter(month=day.replace(day=1), region_id__in=regions).exists()


@transaction.atomic
def record_visit(*, household, cadre, visited_on: datetime.date, by, submission_key: uuid.UUID | None = None,
                 **fields) -> Visit:
    """Save a visit, or refuse it with a message that says why.

    The same submission key twice (a double-clicked button) returns the first visit.
    """
    if submission_key:
        earlier = Visit.objects.filter(submission_key=submission_key).first()
        if earlier:
            return earlier
    dates.check_date(visited_on, _("走访日期"), allow_future=True)  # the campaign's floor
    if visited_on > timezone.localdate():
        raise ValidationError(_("走访日期 %(day)s 晚于今天") % {"day": visited_on}, code="future")
    if not Pairing.objects.on(visited_on).filter(cadre=cadre, household=household).exists():
        raise ValidationError(
            _("%(day)s %(cadre)s 未联系 %(household)s，不能登记其走访")
            % {"day": visited_on, "cadre": cadre.name, "household": household},
            code="not_paired",
        )
    if is_month_locked(household.village_id, visited_on):
        raise ValidationError(
            _("%(year)d年%(month)d月的月报已审核通过，该月走访记录已锁定") % {"year": visited_on.year, "month": visited_on.month},
            code="locked",
        )
    visit = Visit(household=household, cadre=cadre, visited_on=visited_on, recorded_by=by,
                  submission_key=submission_key, **fields)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        raise ValidationError(
            _("%(cadre)s 已登记过 %(day)s 对 %(household)s 的%(mode)s")
            % {"cadre": cadre.name, "day": visited_on, "household": household, "mode": visit.mode},
            code="duplicate",
        ) from None
    tallies.count_visit(visit)  # the worklists' figures, in this same transaction
    return visit


@transaction.atomic
def record_unit_visit(*, unit, village, visited_on: datetime.date, cadres, activities: str, by) -> UnitVisit:
    """Save a unit's day in one of its linked villages (单位联村走访), or refuse it with the reason."""
    cadres = list(cadres)
    dates.check_date(visited_on, _("走访日期"), allow_future=True)  # the campaign's floor
    if visited_on > timezone.localdate():
        raise ValidationError(_("走访日期 %(day)s 晚于今天") % {"day": visited_on}, code="future")
    if not VillageLink.objects.on(visited_on).filter(unit=unit, village=village).exists():
        raise ValidationError(
            _("%(day)s %(unit)s 未联系 %(village)s，不能登记联村走访")
            % {"day": visited_on, "unit": unit.name, "village": village.name},
            code="not_linked",
        )
    if not cadres:
        raise ValidationError(_("请至少选择一名参加走访的干部"), code="no_cadres")
    strangers = [cadre.name for cadre in cadres if cadre.unit_id != unit.pk]
    if strangers:
        raise ValidationError(
            _("%(names)s 不是 %(unit)s 的干部") % {"names": "、".join(strangers), "unit": unit.name}, code="other_unit"
        )
    if not activities.strip():
        raise ValidationError(_("请填写工作内容"), code="no_activities")
    if is_month_locked(village.code, visited_on):
        raise ValidationError(
            _("%(year)d年%(month)d月的月报已审核通过，该月走访记录已锁定") % {"year": visited_on.year, "month": visited_on.month},
            code="locked",
        )
    visit = UnitVisit(unit=unit, village=village, visited_on=visited_on, activities=activities.strip(), recorded_by=by)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        raise ValidationError(
            _("%(unit)s %(day)s 到 %(village)s 的走访已登记过")
            % {"unit": unit.name, "day": visited_on, "village": village.name},
            code="duplicate",
        ) from None
    visit.cadres.set(cadres)
    tallies.count_unit_visit(visit)
    return visit
