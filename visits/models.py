from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from households.models import Household
from pairing.models import Cadre, VillageLink
from shuanglian.access import is_unit_liaison, region_q
from shuanglian.lib.history import Tracked


class CadreHouseholdQuerySet(models.QuerySet):
    """Rows of one cadre and one household (visits, their tallies): a unit liaison sees its cadres'."""

    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(cadre__unit_id=user.unit_id)
        return self.filter(region_q(user, "household__village__code"))


class VisitQuerySet(CadreHouseholdQuerySet):
    def in_month(self, year: int, month: int):
        return self.filter(visited_on__year=year, visited_on__month=month)

    def home_visits(self):
        return self.filter(mode__in=Visit.HOME_MODES)

    def contacts(self):
        """Phone, SMS, letter and contact-card contacts: counted apart from home visits."""
        return self.exclude(mode__in=Visit.HOME_MODES)


class Visit(models.Model):
    """A page of the 民情日记: who visited which household, when, how, and what was done."""

    class Mode(models.TextChoices):
        HOME = "入户走访", _("入户走访")
        PHONE = "电话", _("电话")
        SMS = "短信", _("短信")
        LETTER = "书信", _("书信")
        CONTACT_CARD = "联系卡", _("联系卡")
        MEETING = "座谈", _("座谈")
        EVENT = "集中活动", _("集中活动")

        @property
        def is_contact(self) -> bool:
            """Phone, SMS, letter and contact card reach households working away; not a home visit."""
            return self not in Visit.HOME_MODES

    # Face-to-face visits; the rest are contacts with households working away.
    HOME_MODES = (Mode.HOME, Mode.MEETING, Mode.EVENT)

    # No single-column indexes on these two: visit_household_date and visit_cadre_date (and the unique
    # constraint) lead with them, and at province scale the planner never used the plain ones
    # (bench/visits.py).
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("走访干部"), on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    visited_on = models.DateField(_("走访日期"))
    mode = models.CharField(_("方式"), max_length=4, choices=Mode.choices, default=Mode.HOME)
    # The six tasks (六项任务), one column each so that reports count them with GROUP BY.
    task_policy = models.BooleanField(_("宣传政策"), default=False)
    task_opinion = models.BooleanField(_("反映民意"), default=False)
    task_development = models.BooleanField(_("促进发展"), default=False)
    task_emotion = models.BooleanField(_("疏导情绪"), default=False)
    task_grassroots = models.BooleanField(_("强基固本"), default=False)
    task_model = models.BooleanField(_("推广典型"), default=False)
    diary = models.TextField(_("民情日记"), blank=True)
    help_cash = models.DecimalField(_("帮扶资金（元）"), max_digits=10, decimal_places=2, default=0)
    help_goods = models.CharField(_("帮扶物资"), max_length=200, blank=True)
    help_goods_value = models.DecimalField(_("物资折价（元）"), max_digits=10, decimal_places=2, default=0)
    help_project = models.CharField(_("帮扶项目"), max_length=200, blank=True)
    next_steps = models.TextField(_("下一步打算"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    # Set by the form when it is opened: a double-clicked submit carries the same key twice.
    submission_key = models.UUIDField(_("提交标识"), unique=True, null=True, blank=True, editable=False)

    objects = VisitQuerySet.as_manager()
    history = Tracked()

    TASK_FIELDS = (
        "task_policy",
        "task_opinion",
        "task_development",
        "task_emotion",
        "task_grassroots",
        "task_model",
    )

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "household", "visited_on", "mode"],
                name="visit_once_per_cadre_household_day_mode",
            ),
            models.CheckConstraint(
                name="visit_help_not_negative",
                condition=Q(help_cash__gte=0, help_goods_value__gte=0),
                # The form refuses first, under the field; this is what any other writer would see.
                violation_error_message=_("帮扶资金和物资折价都不能为负数"),
            ),
        ]
        indexes = [
            models.Index(fields=["household", "-visited_on"], name="visit_household_date"),
            models.Index(fields=["cadre", "-visited_on"], name="visit_cadre_date"),
            models.Index(fields=["visited_on"], name="visit_date"),
        ]

    def __str__(self):
        return f"{self.cadre} → {self.household}（{self.visited_on}）"

    @property
    def is_contact(self) -> bool:
        return Visit.Mode(self.mode).is_contact

    @property
    def tasks(self) -> list[str]:
        return [
            str(self._meta.get_field(name).verbose_name) for name in self.TASK_FIELDS if getattr(self, name)
        ]


class LockedMonthQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(region_q(user, "region__code"))


class LockedMonth(models.Model):
    """A month whose approved report has counted the visits in a region: they can no longer change.

    reports/services.py creates these rows when a month's report is approved, and removes them
    when it is reopened.
    """

    region = models.ForeignKey(
        "households.Region", verbose_name=_("区域"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    # Which approved report locked it, named in the refusal (reports/services.py writes it).
    reason = models.CharField(_("锁定依据"), max_length=200, blank=True)
    locked_at = models.DateTimeField(_("锁定时间"), auto_now_add=True)

    objects = LockedMonthQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("已锁定月份")
        verbose_name_plural = _("已锁定月份")
        constraints = [
            models.UniqueConstraint(fields=["region", "month"], name="lockedmonth_one_per_region_month")
        ]
        constraints += [models.CheckConstraint(name="lockedmonth_first_day", condition=Q(month__day=1))]


def village_links_in_scope(user):
    """A unit liaison's own links; for everyone else the links to villages in their region."""
    links = VillageLink.objects.visible_to(user)
    if is_unit_liaison(user):
        return links
    return links.filter(region_q(user, "village__code"))


class UnitVisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(unit_id=user.unit_id)
        return self.filter(region_q(user, "village__code"))


class UnitVisit(models.Model):
    """单位驻村/联村走访: a unit's cadres spending a day in a village the unit is linked with.

    Its own kind, apart from household visits: it counts toward the unit's village-visit quota.
    """

    unit = models.ForeignKey(
        "pairing.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="village_visits"
    )
    village = models.ForeignKey(
        "households.Region",
        verbose_name=_("联系村"),
        on_delete=models.PROTECT,
        related_name="unit_visits",
        limit_choices_to={"level": "village"},
    )
    visited_on = models.DateField(_("走访日期"))
    cadres = models.ManyToManyField(Cadre, verbose_name=_("参加干部"), related_name="village_visits")
    activities = models.TextField(_("工作内容"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    # Set by the form when it is opened, as on household visits: a double-clicked submit saves once.
    submission_key = models.UUIDField(_("提交标识"), unique=True, null=True, blank=True, editable=False)

    objects = UnitVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位联村走访")
        verbose_name_plural = _("单位联村走访")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "village", "visited_on"], name="unitvisit_once_per_unit_village_day"
            )
        ]
        indexes = [models.Index(fields=["village", "-visited_on"], name="unitvisit_village_date")]

    def __str__(self):
        return f"{self.unit} → {self.village}（{self.visited_on}）"


class VisitQuotaQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(region_q(user, "county__code"))


class VisitQuota(models.Model):
    """How often a county expects visits (data its office edits; absent rows mean the defaults)."""

    HOUSEHOLD_DEFAULT = 4
    VILLAGE_DEFAULT = 6

    county = models.OneToOneField(
        "households.Region",
        verbose_name=_("县（市、区）"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="visit_quota",
        limit_choices_to={"level": "county"},
    )
    household_visits_per_year = models.PositiveSmallIntegerField(
        _("每户每年走访次数下限"),
        default=HOUSEHOLD_DEFAULT,
        help_text=_("干部对每个联系户每年至少走访（含电话等联系）的次数"),
    )
    village_visits_per_year = models.PositiveSmallIntegerField(
        _("每村每年驻村走访次数下限"),
        default=VILLAGE_DEFAULT,
        help_text=_("单位干部到每个联系村每年至少走访的次数"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = VisitQuotaQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访任务标准")
        verbose_name_plural = _("走访任务标准")
        ordering = ["county_id"]

    def __str__(self):
        return f"{self.county}走访任务标准"


# --- Pre-aggregated figures (visits/tallies.py keeps them) ---------------------------------------
# At province scale the worklists would otherwise pass over a year of visits (~5M rows) on every page.
# They are derived data: services.record_visit and record_unit_visit update them in the visit's own
# transaction, bulk writers call tallies.rebuild(), and `manage.py rebuild_visit_tallies` repairs them.


class HouseholdContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(household__in=Household.objects.visible_to(user))


class HouseholdContact(models.Model):
    """The date of a household's latest visit or contact, by any cadre in any mode (absent: never)."""

    household = models.OneToOneField(
        Household,
        verbose_name=_("农户"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="last_contact",
    )
    last_contacted_on = models.DateField(_("最近走访或联系日期"))

    objects = HouseholdContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("农户最近联系")
        verbose_name_plural = _("农户最近联系")
        indexes = [models.Index(fields=["last_contacted_on"], name="contact_last_date")]

    def __str__(self):
        return f"{self.household}（{self.last_contacted_on}）"


class YearlyVisitCount(models.Model):
    """What both tallies keep per year: how many visits, and the latest of them."""

    year = models.PositiveSmallIntegerField(_("年度"))
    visits = models.PositiveIntegerField(_("走访次数"))
    last_visited_on = models.DateField(_("最近走访日期"))

    class Meta:
        abstract = True


class VisitTally(YearlyVisitCount):
    """How many visits (any mode) a cadre paid a household in one calendar year, and the latest of them,
    and how many in each month of that year (m01 … m12, the same upsert: no query more per save).

    The months answer for a past day at a month's end, which the year's count cannot: the visits
    up to the end of June are m01 + … + m06 (the quarterly ranking's quota), and a household was
    reached from April to June when one of its rows has m04 + m05 + m06 > 0 (the contact rate, the
    households not contacted this quarter)."""

    cadre = models.ForeignKey(Cadre, verbose_name=_("走访干部"), on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.CASCADE, related_name="+"
    )
    # Small integers: at most one visit a day per mode, a few hundred a month.
    m01 = models.PositiveSmallIntegerField(_("1月走访次数"), default=0)
    m02 = models.PositiveSmallIntegerField(_("2月走访次数"), default=0)
    m03 = models.PositiveSmallIntegerField(_("3月走访次数"), default=0)
    m04 = models.PositiveSmallIntegerField(_("4月走访次数"), default=0)
    m05 = models.PositiveSmallIntegerField(_("5月走访次数"), default=0)
    m06 = models.PositiveSmallIntegerField(_("6月走访次数"), default=0)
    m07 = models.PositiveSmallIntegerField(_("7月走访次数"), default=0)
    m08 = models.PositiveSmallIntegerField(_("8月走访次数"), default=0)
    m09 = models.PositiveSmallIntegerField(_("9月走访次数"), default=0)
    m10 = models.PositiveSmallIntegerField(_("10月走访次数"), default=0)
    m11 = models.PositiveSmallIntegerField(_("11月走访次数"), default=0)
    m12 = models.PositiveSmallIntegerField(_("12月走访次数"), default=0)

    MONTHS = tuple(f"m{month:02d}" for month in range(1, 13))

    objects = CadreHouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度走访次数")
        verbose_name_plural = _("年度走访次数")
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "household", "year"], name="visittally_one_per_pair_year"
            )
        ]

    def __str__(self):
        return f"{self.cadre} → {self.household}：{self.year}年 {self.visits} 次"


class UnitVisitTally(YearlyVisitCount):
    """How many village visits a unit made to a village in one calendar year, and the latest of them."""

    unit = models.ForeignKey(
        "pairing.Unit", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+"
    )
    village = models.ForeignKey(
        "households.Region", verbose_name=_("联系村"), on_delete=models.CASCADE, related_name="+"
    )

    objects = UnitVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度联村走访次数")
        verbose_name_plural = _("年度联村走访次数")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "village", "year"], name="unitvisittally_one_per_link_year"
            )
        ]

    def __str__(self):
        return f"{self.unit} → {self.village}：{self.year}年 {self.visits} 次"


class MonthlyCounts(models.Model):
    """What both monthly tallies keep for one calendar month (reports' figures, issue 13)."""

    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    home_visits = models.PositiveIntegerField(_("入户走访次数"), default=0)
    contacts = models.PositiveIntegerField(_("电话等联系次数"), default=0)
    households_contacted = models.PositiveIntegerField(_("走访或联系的户数"), default=0)
    help_cash = models.DecimalField(_("帮扶资金（元）"), max_digits=14, decimal_places=2, default=0)
    help_goods_value = models.DecimalField(_("物资折价（元）"), max_digits=14, decimal_places=2, default=0)
    unit_visits = models.PositiveIntegerField(_("单位联村走访次数"), default=0)

    COUNTED = (
        "home_visits",
        "contacts",
        "households_contacted",
        "help_cash",
        "help_goods_value",
        "unit_visits",
    )

    class Meta:
        abstract = True


class VillageMonthTally(MonthlyCounts):
    """A village's visits, contacts, households reached, help and unit visits in one month."""

    village = models.ForeignKey(
        "households.Region", verbose_name=_("村"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("村月度走访统计")
        verbose_name_plural = _("村月度走访统计")
        constraints = [
            models.UniqueConstraint(fields=["village", "month"], name="villagemonthtally_one_per_month")
        ]
        indexes = [models.Index(fields=["month", "village"], name="villagemonthtally_month")]

    def __str__(self):
        return f"{self.village_id} {self.month:%Y-%m}"


class UnitMonthTally(MonthlyCounts):
    """A unit's cadres' visits and contacts, the households they reached, their help, and the
    unit's village visits in one month."""

    unit = models.ForeignKey(
        "pairing.Unit", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("单位月度走访统计")
        verbose_name_plural = _("单位月度走访统计")
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="unitmonthtally_one_per_month")]

    def __str__(self):
        return f"{self.unit_id} {self.month:%Y-%m}"
