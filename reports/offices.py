"""Who reports to whom (报送关系), as data read from the region tree and the units' seats.

A township office and each unit liaison report to their county office; a county to its city; a city
to the province. A unit seated at city or province level reports to that office. The day of the
next month by which each level reports is a ReportDueDay row (absent: 3rd, 5th, 8th).
"""

import datetime
from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext as _

from households.models import Region
from pairing.models import Unit
from shuanglian.access import LEVEL_DIGITS, is_unit_liaison, scope_prefix
from shuanglian.indicators import Scope
from shuanglian.lib.codes import prefix_range_q

from .models import ReportDueDay

# Who is reported to: the office level above each reporting level (units: by the unit's level).
PARENT_LEVEL = {"township": "county", "county": "city", "city": "province"}
UNIT_PARENT_LEVEL = {"township": "county", "county": "county", "city": "city", "province": "province"}
# The child region level of each reviewing office.
CHILD_LEVEL = {"county": "township", "city": "county", "province": "city"}
REPORTING_LEVELS = ("township", "county", "city", "province")


@dataclass(frozen=True)
class Office:
    """A reporting office: a region's leading-group office, or a unit (through its liaison)."""

    region: Region | None = None
    unit: Unit | None = None

    @property
    def key(self) -> str:
        """How the office appears in URLs: the region code, or 'u' and the unit's id."""
        return self.region.code if self.region else f"u{self.unit.pk}"

    @property
    def level(self) -> str:
        return self.region.level if self.region else "unit"

    @property
    def name(self) -> str:
        if self.region:
            return _("%(name)s双联办") % {"name": self.region.name}
        return self.unit.name

    @property
    def scope(self) -> Scope:
        if self.unit:
            return Scope(unit_id=self.unit.pk)
        return Scope(prefix=self.region.code[: LEVEL_DIGITS[self.region.level]])

    @property
    def parent_code(self) -> str | None:
        """The region code of the office this one reports to (None: the province reports to nobody)."""
        if self.unit:
            level = UNIT_PARENT_LEVEL[self.unit.level]
            return self.unit.region_id[: LEVEL_DIGITS[level]].ljust(12, "0")
        level = PARENT_LEVEL.get(self.region.level)
        return self.region.code[: LEVEL_DIGITS[level]].ljust(12, "0") if level else None

    @property
    def due_level(self) -> str:
        return self.level

    def filter(self) -> dict:
        """The MonthlyReport lookup of this office."""
        return {"region": self.region, "unit": None} if self.region else {"region": None, "unit": self.unit}

    def __str__(self):
        return self.name


def office_of(user) -> Office | None:
    """The office a user writes the reports of (None: a superuser or an account of no office)."""
    if user.is_superuser:
        return None
    if is_unit_liaison(user) and user.unit_id:
        return Office(unit=user.unit)
    if user.role in REPORTING_LEVELS and user.region_id:
        return Office(region=user.region)
    return None


def reviewing_office(user) -> Office | None:
    """The office whose board a user reads: its own (a county's townships and units), the province
    for a superuser; None for a township or a unit, which review nobody."""
    if user.is_superuser:
        region = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").first()
        return Office(region=region) if region else None
    office = office_of(user)
    return office if office and office.level in CHILD_LEVEL else None


def children(office: Office) -> list[Office]:
    """The offices that report to `office`: the regions one level down, then the units seated there."""
    if office.unit or office.level not in CHILD_LEVEL:
        return []
    region = office.region
    prefix = region.code[: LEVEL_DIGITS[region.level]]
    regions = Region.objects.filter(level=CHILD_LEVEL[region.level], parent=region).order_by("code")
    unit_levels = [level for level, parent in UNIT_PARENT_LEVEL.items() if parent == region.level]
    units = (
        Unit.objects.filter(prefix_range_q("region_id", prefix), level__in=unit_levels)
        .select_related("region")
        .order_by("region_id", "name")
    )
    return [Office(region=r) for r in regions] + [Office(unit=u) for u in units]


def visible_office(user, key: str) -> Office:
    """The office a URL names, if the user's scope holds it; else 404 (outsiders learn nothing)."""
    if key.startswith("u") and key[1:].isdigit():
        unit = Unit.objects.select_related("region").filter(pk=int(key[1:])).first()
        if unit is None:
            raise Http404
        if is_unit_liaison(user):
            if unit.pk != user.unit_id:
                raise Http404
            return Office(unit=unit)
        prefix = scope_prefix(user)
        if prefix is None or not unit.region_id.startswith(prefix):
            raise Http404
        return Office(unit=unit)
    region = Region.objects.filter(code=key, level__in=REPORTING_LEVELS).first()
    prefix = scope_prefix(user)
    if region is None or is_unit_liaison(user) or prefix is None or not region.code.startswith(prefix):
        raise Http404
    return Office(region=region)


def may_write(user, office: Office) -> bool:
    """The office itself writes and submits its report (a superuser may act for any office)."""
    if user.is_superuser:
        return True
    mine = office_of(user)
    return mine is not None and mine.key == office.key


def may_review(user, office: Office) -> bool:
    """The office above returns, approves and reopens the report (a superuser may too)."""
    if user.is_superuser:
        return office.parent_code is not None
    mine = office_of(user)
    return mine is not None and mine.region is not None and mine.region.code == office.parent_code


def due_days() -> dict[str, int]:
    """The due day per level: the ReportDueDay rows over the defaults."""
    return ReportDueDay.DEFAULTS | dict(ReportDueDay.objects.values_list("level", "day"))


def due_date(
    office: Office, month: datetime.date, days: dict[str, int] | None = None
) -> datetime.date | None:
    """The day by which the office reports on `month` (None for the province, which reports to nobody)."""
    days = days if days is not None else due_days()
    day = days.get(office.due_level)
    if day is None:
        return None
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    return following.replace(day=day)
