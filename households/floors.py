"""The three floors (三条底线), computed from the household and its members, never typed.

- 不能生活不下去: income per head below the county's line and not under 低保/五保;
- 不能因贫失学: a member of compulsory-school age who is not in school;
- 不能因贫看不起病: a member with a serious or chronic illness and no 新农合.

The same rules run twice: in Python for one household's page (its members are
already loaded), and as database expressions for list filters, so a list keeps
a fixed query count. tests/test_floors.py checks that both agree.

Settings (all optional):
  FLOOR_INCOME_LINE            yuan per head and year (default 2968, the 2015 national line);
  FLOOR_INCOME_LINE_BY_COUNTY  {"621121": 3100, ...}: a county's own line, by its 6-digit prefix;
  FLOOR_SCHOOL_AGE             (6, 15): the first and last year of compulsory-school age.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, DecimalField, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Category, Health, HouseholdStatus, Schooling

DEFAULT_INCOME_LINE = Decimal("2968")
DEFAULT_SCHOOL_AGE = (6, 15)

# Households whose minimum living is already guaranteed by 低保 or 五保.
SUPPORTED_CATEGORIES = (Category.DIBAO, Category.DIBAO_POOR, Category.WUBAO)
NOT_IN_SCHOOL = (Schooling.NOT_ENROLLED, Schooling.DROPPED_OUT)
ILL = (Health.SERIOUS, Health.CHRONIC)
# Moved-out and closed households are no longer anyone's floor to hold.
WATCHED_STATUSES = (HouseholdStatus.REGISTERED, HouseholdStatus.LIFTED)

LIVING = "living"
SCHOOL = "school"
MEDICAL = "medical"
LABELS = {
    LIVING: _("不能生活不下去"),
    SCHOOL: _("不能因贫失学"),
    MEDICAL: _("不能因贫看不起病"),
}


@dataclass(frozen=True)
class Alert:
    floor: str
    detail: str

    @property
    def label(self):
        return LABELS[self.floor]


def income_line(village_code: str) -> Decimal:
    by_county = getattr(settings, "FLOOR_INCOME_LINE_BY_COUNTY", {})
    line = by_county.get(village_code[:6], getattr(settings, "FLOOR_INCOME_LINE", DEFAULT_INCOME_LINE))
    return Decimal(str(line))


def school_age() -> tuple[int, int]:
    first, last = getattr(settings, "FLOOR_SCHOOL_AGE", DEFAULT_SCHOOL_AGE)
    return int(first), int(last)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def school_age_births(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Birth dates (exclusive lower, inclusive upper) of people of compulsory-school age today."""
    first, last = school_age()
    return years_before(today, last + 1), years_before(today, first)


def alerts(household, members, today: datetime.date | None = None) -> list[Alert]:
    """The floors this household breaks, from its already-loaded members."""
    today = today or timezone.localdate()
    if household.status not in WATCHED_STATUSES:
        return []
    found = []
    line = income_line(household.village_id)
    if (
        household.income_per_head is not None
        and household.income_per_head < line
        and household.category not in SUPPORTED_CATEGORIES
    ):
        found.append(
            Alert(
                LIVING,
                _("人均纯收入 %(income)s 元，低于 %(line)s 元，且未纳入低保")
                % {"income": household.income_per_head, "line": line},
            )
        )
    first, last = school_age()
    for member in members:
        if member.schooling in NOT_IN_SCHOOL and first <= age_on(member.birth_date, today) <= last:
            found.append(
                Alert(
                    SCHOOL,
                    _("%(name)s（%(age)s 岁）%(schooling)s")
                    % {
                        "name": member.name,
                        "age": age_on(member.birth_date, today),
                        "schooling": member.schooling,
                    },
                )
            )
    for member in members:
        if member.health in ILL and not member.has_medical_insurance:
            found.append(
                Alert(
                    MEDICAL,
                    _("%(name)s %(health)s，未参加新农合") % {"name": member.name, "health": member.health},
                )
            )
    return found


def _income_line_expression():
    by_county = getattr(settings, "FLOOR_INCOME_LINE_BY_COUNTY", {})
    default = Value(income_line("000000"), output_field=DecimalField(max_digits=10, decimal_places=2))
    if not by_county:
        return default
    whens = [
        When(village__code__startswith=county, then=Value(Decimal(str(line))))
        for county, line in sorted(by_county.items())
    ]
    return Case(*whens, default=default, output_field=DecimalField(max_digits=10, decimal_places=2))


def alert_q(today: datetime.date | None = None, *, per_household: bool = False) -> Q:
    """A filter for households breaking any floor: Exists() subqueries, no join fan-out.

    ``per_household`` looks each household's members up by its household index (a scalar
    subquery the database cannot turn into a hash): the plan for a township's few hundred
    households, where PostgreSQL otherwise reads every matching member of the province into a
    hash first (55k at scale 1.0, most of a township's monthly report; issue 13). The same rule."""
    from .models import Member  # floors is imported by models' neighbours; avoid a cycle

    today = today or timezone.localdate()
    born_after, born_by = school_age_births(today)
    members = Member.objects.filter(household_id=OuterRef("pk"))
    out_of_school = Q(schooling__in=NOT_IN_SCHOOL, birth_date__gt=born_after, birth_date__lte=born_by)
    uninsured = Q(health__in=ILL, has_medical_insurance=False)
    below_line = Q(income_per_head__lt=_income_line_expression()) & ~Q(category__in=SUPPORTED_CATEGORIES)
    if per_household:
        first_member = Subquery(members.filter(out_of_school | uninsured).values("pk")[:1])
        return Q(status__in=WATCHED_STATUSES) & (below_line | Q(IsNull(first_member, False)))
    return Q(status__in=WATCHED_STATUSES) & (
        below_line | Exists(members.filter(out_of_school)) | Exists(members.filter(uninsured))
    )


def with_alerts(queryset, today: datetime.date | None = None):
    return queryset.filter(alert_q(today))
