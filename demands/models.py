"""The demand ledger (诉求台账): what households ask for, and every step taken on it.

A demand sits at one level at a time (the household's cadre, the cadre's unit, the
township, then the county, city and province offices) and climbs when it is escalated
by hand or left overdue. Every step is a DemandAction row, so the ledger shows the path.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Household, Region
from pairing.models import Pairing
from shuanglian.access import REGION_ROLES, Role, is_unit_liaison, region_q
from shuanglian.lib.history import Tracked


class Level(models.TextChoices):
    CADRE = "干部", _("帮扶干部")
    UNIT = "单位", _("帮扶单位")
    TOWNSHIP = "乡镇", _("乡镇双联办")
    COUNTY = "县", _("县双联办")
    CITY = "市", _("市双联办")
    PROVINCE = "省", _("省双联办（领导小组办公室）")


# Bottom to top: escalation moves one step along this list.
LEVEL_ORDER = list(Level)


def next_level(level: str) -> str | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def _open_pairing(household_ref, **filters):
    return Pairing.objects.open().filter(household=household_ref, **filters)


# The offices, bottom to top: where a level has no one who can act, the next one up acts for it.
OFFICE_LEVELS = (Level.TOWNSHIP, Level.COUNTY, Level.CITY, Level.PROVINCE)
# The office level each region role answers at: the region roles, bottom to top (access.REGION_ROLES).
ROLE_LEVEL = dict(zip(REGION_ROLES, OFFICE_LEVELS, strict=True))
# Significant digits of the region an office level answers for.
OFFICE_DIGITS = {Level.TOWNSHIP: 9, Level.COUNTY: 6, Level.CITY: 4, Level.PROVINCE: 2}
OFFICE_ROLE = {level: role for role, level in ROLE_LEVEL.items()}


def _active_accounts():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, is_superuser=False)


def _liaison_of_a_unit_helping(**pairing_filters) -> Exists:
    """An active liaison account of a unit one of whose cadres helps the household now."""
    units = _open_pairing(OuterRef(OuterRef("household")), **pairing_filters).values("cadre__unit_id")
    return Exists(_active_accounts().filter(role=Role.UNIT, unit_id__in=units))


def _office_account(level) -> Exists:
    """An active account of the office at `level` for the household's region."""
    digits = OFFICE_DIGITS[level]
    region = Concat(Substr(OuterRef("household__village_id"), 1, digits), Value("0" * (12 - digits)))
    return Exists(_active_accounts().filter(role=OFFICE_ROLE[level], region_id=region))


def nobody_at(level) -> Q:
    """Demands whose `level` has no account that could act on them (the superuser aside).

    Cadres have no accounts: township staff act for them, and the liaison of the responsible
    cadre's unit. A unit acts through its liaison; an office through its staff accounts.
    """
    if level == Level.CADRE:
        return ~_office_account(Level.TOWNSHIP) & ~_liaison_of_a_unit_helping(role=Pairing.Role.RESPONSIBLE)
    if level == Level.UNIT:
        return ~_liaison_of_a_unit_helping()
    return ~_office_account(level)


def acting_for_q(office_level) -> Q:
    """Demands below `office_level` that it acts for: their level, and every office between it
    and `office_level`, has no one who can act."""
    clauses = Q(pk__in=[])
    for below in LEVEL_ORDER[: LEVEL_ORDER.index(office_level)]:
        clause = Q(level=below) & nobody_at(below)
        for office in OFFICE_LEVELS:
            if LEVEL_ORDER.index(below) < LEVEL_ORDER.index(office) < LEVEL_ORDER.index(office_level):
                clause &= nobody_at(office)
        clauses |= clause
    return clauses


def at_level_of_q(user) -> Q:
    """A filter for the demands waiting at the level this user answers for.

    Cadres have no accounts: township staff act for them, as they enter their diaries,
    and so does the liaison of the unit of the household's current responsible cadre. A Q (not a
    queryset) so that a count over a scoped queryset can filter by it row by row, instead of
    comparing with a subquery over every demand of the province.
    """
    if user.is_superuser:
        return Q()
    if is_unit_liaison(user):
        responsible_here = Exists(
            _open_pairing(OuterRef("household"), role=Pairing.Role.RESPONSIBLE, cadre__unit_id=user.unit_id)
        )
        any_cadre_here = Exists(_open_pairing(OuterRef("household"), cadre__unit_id=user.unit_id))
        return (Q(level=Level.CADRE) & responsible_here) | (Q(level=Level.UNIT) & any_cadre_here)
    level = ROLE_LEVEL.get(user.role)
    if level is None:
        return Q(pk__in=[])
    own = [Level.CADRE, Level.TOWNSHIP] if level == Level.TOWNSHIP else [level]
    # Every level must have someone who can act: an office acts for the levels below it
    # that have no account (a unit without a liaison, a township without staff).
    return Q(level__in=own) | acting_for_q(level)


def unattended_q() -> Q:
    """A filter for demands waiting at a level where no account can act."""
    clauses = Q(pk__in=[])
    for level in LEVEL_ORDER:
        clauses |= Q(level=level) & nobody_at(level)
    return clauses


class DemandQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Region staff see the demands of households in their region; a unit liaison those
        of households its cadres are paired with now."""
        if is_unit_liaison(user):
            paired = Pairing.objects.open().filter(cadre__unit_id=user.unit_id).values("household_id")
            return self.filter(household_id__in=paired)
        return self.filter(region_q(user, "household__village__code"))

    def at_level_of(self, user):
        """The demands waiting at the level this user answers for (scope is `visible_to`'s job)."""
        return self.filter(at_level_of_q(user))

    def unattended(self):
        """Open demands waiting at a level where no account can act (the offices' worklist):
        an office above acts for them, and the path records that it did."""
        return self.open().filter(unattended_q())

    def open(self):
        return self.filter(status__in=Demand.OPEN_STATUSES)

    def overdue(self, today: datetime.date | None = None):
        return self.filter(overdue_q(today))

    def with_responsible_cadre(self):
        """Annotate the household's current responsible cadre: derived from the open pairing,
        never copied, so a handover moves cadre-level demands to the successor."""
        current = _open_pairing(OuterRef("household"), role=Pairing.Role.RESPONSIBLE)
        return self.annotate(
            responsible_cadre_id=Subquery(current.values("cadre_id")[:1]),
            responsible_cadre_name=Subquery(current.values("cadre__name")[:1]),
        )


class Demand(models.Model):
    """A household's demand (诉求): raised once, answered at one level at a time."""

    class Category(models.TextChoices):
        PRODUCTION = "生产发展", _("生产发展")
        INFRASTRUCTURE = "基础设施", _("基础设施")
        HOUSING = "住房", _("住房")
        MEDICAL = "医疗", _("医疗")
        EDUCATION = "教育", _("教育")
        RELIEF = "低保救助", _("低保救助")
        DISPUTE = "矛盾纠纷", _("矛盾纠纷")
        POLICY = "政策咨询", _("政策咨询")
        OTHER = "其他", _("其他")

    class Status(models.TextChoices):
        PENDING = "待办", _("待办")
        IN_PROGRESS = "办理中", _("办理中")
        RESOLVED = "已解决", _("已解决")
        EXPLAINED = "已解释", _("已解释")

    OPEN_STATUSES = (Status.PENDING, Status.IN_PROGRESS)
    Level = Level

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="demands"
    )
    visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("提出时的走访"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
    )
    raised_on = models.DateField(_("提出日期"))
    category = models.CharField(_("类别"), max_length=8, choices=Category.choices)
    text = models.TextField(_("诉求内容"))
    level = models.CharField(_("当前层级"), max_length=4, choices=Level.choices, default=Level.CADRE)
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.PENDING)
    due_on = models.DateField(_("办理期限"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Set by the household page's form, so a double-clicked submit raises one demand, not two.
    submission_key = models.UUIDField(_("提交标识"), unique=True, null=True, blank=True, editable=False)

    objects = DemandQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-raised_on", "-id"]
        indexes = [
            # escalate_overdue and the overdue worklists read open demands by due date.
            models.Index(
                fields=["due_on", "level"], condition=Q(status__in=["待办", "办理中"]), name="demand_open_due"
            ),
            models.Index(fields=["household", "-raised_on"], name="demand_household_date"),
            # The ledger's order: a wide scope (province, city) walks it and stops after one page.
            models.Index(fields=["-raised_on", "-id"], name="demand_raised_desc"),
        ]

    def __str__(self):
        return f"{self.household.head_name}：{self.get_category_display()}（{self.raised_on}）"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Open past its due date: the row-by-row twin of overdue_q, which pages and counts use."""
        return self.is_open and self.due_on < timezone.localdate()


def overdue_q(today: datetime.date | None = None) -> Q:
    """逾期: open (待办 or 办理中) and past the due date of the level it waits at. The one definition
    every list, count and worklist filters by (Demand.is_overdue says the same of one row)."""
    return Q(status__in=Demand.OPEN_STATUSES, due_on__lt=today or timezone.localdate())


class DemandAction(models.Model):
    """One step on a demand's path; written by demands.services, never edited."""

    class Kind(models.TextChoices):
        RAISE = "提出", _("提出")
        ACCEPT = "受理", _("受理")
        REPLY = "答复", _("答复")
        ESCALATE = "上报", _("上报")
        RESOLVE = "办结", _("办结")
        EXPLAIN = "解释", _("解释")
        FEEDBACK = "反馈", _("反馈")

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(_("办理环节"), max_length=4, choices=Kind.choices)
    text = models.TextField(_("说明"), blank=True)
    from_level = models.CharField(_("原层级"), max_length=4, choices=Level.choices)
    to_level = models.CharField(_("转至层级"), max_length=4, choices=Level.choices, blank=True)
    # Empty for the automatic escalation of an overdue demand.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("办理时间"), default=timezone.now)
    # Filled when an office acted for a level with no one to act (a unit without a liaison).
    acting_for = models.CharField(_("代为办理"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("诉求办理记录")
        verbose_name_plural = _("诉求办理记录")
        ordering = ["at", "id"]
        indexes = [
            # The report's closing-step EXISTS (demands/indicators.py) probes every closed demand of
            # the scope: answered from the index alone, no row read per probe (issue 13).
            models.Index(fields=["demand", "kind", "at"], name="demandaction_demand_kind_at"),
            # The closing steps of a month or a quarter (demands/indicators.py, reports/dispatch.py):
            # a range of this index instead of a probe per closed demand (issue 13).
            models.Index(fields=["kind", "at"], name="demandaction_kind_at"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.at:%Y-%m-%d}）"

    @property
    def is_automatic(self) -> bool:
        return self.by_id is None


class DemandDeadlinesQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(region_q(user, "county__code"))


def _days_field(label, default):
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )


class DemandDeadlines(models.Model):
    """How many days each level has to answer a demand, set by a county's office."""

    DEFAULTS = {
        Level.CADRE: 7,
        Level.UNIT: 10,
        Level.TOWNSHIP: 15,
        Level.COUNTY: 20,
        Level.CITY: 30,
        Level.PROVINCE: 30,
    }

    county = models.OneToOneField(
        Region,
        verbose_name=_("县（市、区）"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="demand_deadlines",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    cadre_days = _days_field(_("帮扶干部办理天数"), DEFAULTS[Level.CADRE])
    unit_days = _days_field(_("帮扶单位办理天数"), DEFAULTS[Level.UNIT])
    township_days = _days_field(_("乡镇办理天数"), DEFAULTS[Level.TOWNSHIP])
    county_days = _days_field(_("县双联办办理天数"), DEFAULTS[Level.COUNTY])
    city_days = _days_field(_("市双联办办理天数"), DEFAULTS[Level.CITY])
    province_days = _days_field(_("省双联办办理天数"), DEFAULTS[Level.PROVINCE])
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = DemandDeadlinesQuerySet.as_manager()

    FIELDS = {
        Level.CADRE: "cadre_days",
        Level.UNIT: "unit_days",
        Level.TOWNSHIP: "township_days",
        Level.COUNTY: "county_days",
        Level.CITY: "city_days",
        Level.PROVINCE: "province_days",
    }

    class Meta:
        verbose_name = _("诉求办理期限")
        verbose_name_plural = _("诉求办理期限")

    def __str__(self):
        return f"{self.county}诉求办理期限"

    def days(self, level: str) -> int:
        return getattr(self, self.FIELDS[level])

    @classmethod
    def table(cls, county_codes) -> dict[str, dict[str, int]]:
        """Days per level for each county code (defaults where a county set none), in one query."""
        table = {code: dict(cls.DEFAULTS) for code in county_codes}
        for rules in cls.objects.filter(county_id__in=list(table)):
            table[rules.county_id] = {level: rules.days(level) for level in LEVEL_ORDER}
        return table
