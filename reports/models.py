"""Reports of the leading-group offices: the monthly report (月报告) and its review steps.

A report belongs to an office: a region's office (township, county, city, province) or a unit,
for one month. Its figures are computed from the record while it is open and frozen into
`figures` when it is approved; every workflow step is a ReportAction row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shuanglian.lib.history import Tracked

# Bounds of the four texts an office writes: long enough for a page of prose, short enough to print.
TEXT_MAX = 2000


class ReportDueDay(models.Model):
    """The day of the next month by which an office at a level reports (absent: the default)."""

    class Level(models.TextChoices):
        TOWNSHIP = "township", _("乡镇")
        UNIT = "unit", _("单位")
        COUNTY = "county", _("县（市、区）")
        CITY = "city", _("市（州）")

    DEFAULTS = {"township": 3, "unit": 3, "county": 5, "city": 8}

    level = models.CharField(_("报送层级"), max_length=10, choices=Level.choices, unique=True)
    day = models.PositiveSmallIntegerField(_("次月报送截止日"))

    history = Tracked()

    class Meta:
        verbose_name = _("月报告报送期限")
        verbose_name_plural = _("月报告报送期限")
        constraints = [
            models.CheckConstraint(name="reportdueday_day_in_month", condition=Q(day__gte=1, day__lte=28))
        ]

    def __str__(self):
        return f"{self.get_level_display()}：次月{self.day}日前"


def _office_q(user, region_field: str, unit_field: str) -> Q:
    """The reports' offices a user may see: a unit liaison its own unit; an office the regions and
    units seated in its region (the offices that report to it, and below); a superuser all."""
    from shuanglian.access import is_unit_liaison, region_q

    if is_unit_liaison(user):
        return Q(**{unit_field: user.unit_id}) if user.unit_id else Q(pk__in=[])
    return region_q(user, region_field) | region_q(user, f"{unit_field}__region__code")


class MonthlyReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The reports of the offices in the user's scope (visible_office's rule: outsiders 404)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(_office_q(user, "region__code", "unit"))


class MonthlyReport(models.Model):
    """One office's report on one month: the figures computed from the record, and its own text."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已报送")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已审核")

    region = models.ForeignKey(
        "households.Region",
        verbose_name=_("报告单位（区域）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unit = models.ForeignKey(
        "pairing.Unit",
        verbose_name=_("报告单位（帮扶单位）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    work_done = models.TextField(_("工作开展情况"), max_length=TEXT_MAX, blank=True)
    experience = models.TextField(_("经验做法"), max_length=TEXT_MAX, blank=True)
    problems = models.TextField(_("存在问题"), max_length=TEXT_MAX, blank=True)
    next_month = models.TextField(_("下月打算"), max_length=TEXT_MAX, blank=True)
    missing_note = models.TextField(_("缺报说明"), max_length=TEXT_MAX, blank=True)
    # Frozen at approval: {"month": {...}, "year": {...}, "rows": [...]} exactly as the page showed them.
    figures = models.JSONField(_("审核时的数据"), default=dict, blank=True)
    frozen_at = models.DateTimeField(_("数据冻结时间"), null=True, blank=True)
    # Bumped by every change, so that two people editing at once do not overwrite each other.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MonthlyReportQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("月报告")
        verbose_name_plural = _("月报告")
        ordering = ["-month", "region_id", "unit_id"]
        constraints = [
            models.CheckConstraint(
                name="monthlyreport_one_office",
                condition=Q(region__isnull=False, unit__isnull=True)
                | Q(region__isnull=True, unit__isnull=False),
            ),
            models.CheckConstraint(name="monthlyreport_first_day", condition=Q(month__day=1)),
            models.UniqueConstraint(
                fields=["region", "month"],
                condition=Q(unit__isnull=True),
                name="monthlyreport_one_per_region",
            ),
            models.UniqueConstraint(
                fields=["unit", "month"], condition=Q(region__isnull=True), name="monthlyreport_one_per_unit"
            ),
        ]
        indexes = [models.Index(fields=["month", "status"], name="monthlyreport_month_status")]

    def __str__(self):
        office = self.region.name if self.region_id else self.unit.name
        return f"{office}{self.month.year}年{self.month.month}月月报告"


class ReportActionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The steps of the reports the user may see."""
        return self.filter(report__in=MonthlyReport.objects.visible_to(user).values("pk"))


class ReportAction(models.Model):
    """One step of a report's review: who took it, when, and what they wrote."""

    class Kind(models.TextChoices):
        CREATE = "create", _("起草")
        EDIT = "edit", _("修改")
        SUBMIT = "submit", _("报送")
        RETURN = "return", _("退回")
        APPROVE = "approve", _("审核通过")
        REOPEN = "reopen", _("重新打开")

    report = models.ForeignKey(
        MonthlyReport, verbose_name=_("月报告"), on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(_("环节"), max_length=10, choices=Kind.choices)
    comment = models.TextField(_("意见"), max_length=TEXT_MAX, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    objects = ReportActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("月报告办理记录")
        verbose_name_plural = _("月报告办理记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.report} {self.get_kind_display()}"


# --- Quarterly dispatch (季调度): bulletins; the annual summary (年总结) -----------------------------


class BulletinQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The issuing office sees its bulletins (drafts too); the offices and units below see the
        issued ones (a unit liaison: those addressed to its unit); an office above reads the issued
        ones of the offices in its region (a city its counties'), read-only: it is no recipient."""
        from shuanglian.access import is_unit_liaison, scope_prefix

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        issued = Q(status=Bulletin.Status.ISSUED)
        if is_unit_liaison(user):
            addressed = BulletinRecipient.objects.filter(unit_id=user.unit_id).values("bulletin_id")
            return self.filter(issued, pk__in=addressed)
        prefix = scope_prefix(user)
        if not prefix:
            return self.none()
        # Its own office's bulletins, and the issued ones of the offices above and below it.
        own = Q(region_id=prefix.ljust(12, "0"))
        above = [prefix[:n].ljust(12, "0") for n in (2, 4, 6) if n < len(prefix)]
        below = Q(region__code__startswith=prefix)
        return self.filter(own | (issued & (Q(region_id__in=above) | below)))


class Bulletin(models.Model):
    """通报: an office's quarterly dispatch, drafted from its ranking, edited, then issued with a number."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ISSUED = "issued", _("已印发")

    region = models.ForeignKey(
        "households.Region", verbose_name=_("发文单位（区域）"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(_("文号"), max_length=40, blank=True)
    title = models.CharField(_("标题"), max_length=100)
    opening = models.TextField(_("导语"), max_length=TEXT_MAX, blank=True)
    experiences = models.TextField(_("经验做法"), max_length=TEXT_MAX * 2, blank=True)
    problems = models.TextField(_("存在问题"), max_length=TEXT_MAX * 2, blank=True)
    requirements = models.TextField(_("下一步要求"), max_length=TEXT_MAX, blank=True)
    # The rankings as drafted: [{"title": …, "rows": [Row.as_dict(), …]}]; what the bulletin prints.
    ranking = models.JSONField(_("排名"), default=list, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("起草人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("起草时间"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    # Carried by the draft form: a double-clicked 起草 makes one draft.
    submission_key = models.UUIDField(_("提交标识"), unique=True, null=True, blank=True, editable=False)

    objects = BulletinQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["-year", "-quarter", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="bulletin_quarter_1_to_4", condition=Q(quarter__gte=1, quarter__lte=4)
            ),
            models.UniqueConstraint(
                fields=["region", "number"], condition=~Q(number=""), name="bulletin_number_unique_per_office"
            ),
            models.CheckConstraint(
                name="bulletin_issued_has_number", condition=Q(status="draft") | ~Q(number="")
            ),
        ]

    def __str__(self):
        return self.title


class BulletinRecipient(models.Model):
    """An office or unit below a bulletin is addressed to, and whether (when, by whom) it read it."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="recipients"
    )
    region = models.ForeignKey(
        "households.Region",
        verbose_name=_("接收单位（区域）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unit = models.ForeignKey(
        "pairing.Unit",
        verbose_name=_("接收单位（帮扶单位）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    read_at = models.DateTimeField(_("阅知时间"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("阅知人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("通报接收单位")
        verbose_name_plural = _("通报接收单位")
        ordering = ["region_id", "unit_id"]
        constraints = [
            models.CheckConstraint(
                name="bulletinrecipient_one_office",
                condition=Q(region__isnull=False, unit__isnull=True)
                | Q(region__isnull=True, unit__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["bulletin", "region"],
                condition=Q(unit__isnull=True),
                name="bulletinrecipient_one_region",
            ),
            models.UniqueConstraint(
                fields=["bulletin", "unit"],
                condition=Q(region__isnull=True),
                name="bulletinrecipient_one_unit",
            ),
        ]

    def __str__(self):
        return f"{self.bulletin} → {self.region or self.unit}"


class AnnualSummaryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The summaries of the offices in the user's region (a unit liaison writes none)."""
        from shuanglian.access import is_unit_liaison, region_q

        if not user.is_authenticated or not user.is_active or is_unit_liaison(user):
            return self.none()
        return self.filter(region_q(user, "region__code"))


class AnnualSummary(models.Model):
    """年总结: an office's summary text of a year (the figures beside it are computed, never stored)."""

    region = models.ForeignKey(
        "households.Region", verbose_name=_("单位（区域）"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    text = models.TextField(_("总结"), max_length=TEXT_MAX * 4, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填写人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = AnnualSummaryQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("年度总结")
        verbose_name_plural = _("年度总结")
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="annualsummary_one_per_office_year")
        ]

    def __str__(self):
        return f"{self.region.name}{self.year}年度总结"
