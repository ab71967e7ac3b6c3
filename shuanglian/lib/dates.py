"""The campaign's calendar: no record is dated before settings.SHUANGLIAN_DATE_FLOOR or after today.

Services call `check_date` on every date they write (a form check alone is not a rule); forms add
`campaign_date_validators()` to their date fields so that the refusal shows under the field.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def floor() -> datetime.date:
    return settings.SHUANGLIAN_DATE_FLOOR


def chinese(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def check_date(
    value: datetime.date | None, label, *, allow_future: bool = False, field: str | None = None
) -> None:
    """Refuse a date before the floor (or after today) with a message naming the field `label`.

    With `field`, the error is attached to that form field (services whose callers show it there)."""
    if value is None:
        return
    error = None
    if value < floor():
        error = ValidationError(
            _("%(field)s 不能早于 %(floor)s") % {"field": label, "floor": chinese(floor())},
            code="before_floor",
        )
    elif not allow_future and value > timezone.localdate():
        error = ValidationError(_("%(field)s 不能晚于今天") % {"field": label}, code="future")
    if error is not None:
        raise ValidationError({field: error}) if field else error


def check_year(year: int, label, *, ahead: int = 1) -> None:
    """A plan year: from the floor's year to `ahead` years after this one."""
    last = timezone.localdate().year + ahead
    if not floor().year <= year <= last:
        raise ValidationError(
            _("%(field)s 须在 %(first)d 至 %(last)d 年之间")
            % {"field": label, "first": floor().year, "last": last},
            code="year_out_of_range",
        )


def not_before_floor(value: datetime.date | None) -> None:
    """Form validator: the field's label is shown beside the message (「走访日期：不能早于 …」)."""
    if value is not None and value < floor():
        raise ValidationError(_("不能早于 %(floor)s") % {"floor": chinese(floor())}, code="before_floor")


def not_after_today(value: datetime.date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(_("不能晚于今天"), code="future")


def campaign_date_validators(*, allow_future: bool = False) -> list:
    """Validators for a form's date field; the floor and today are read when the form is checked."""
    return [not_before_floor] if allow_future else [not_before_floor, not_after_today]
