"""What the offices check (督查): flags that point at fabricated records, inspections that call back a
sample of visits, findings with their rectification items, the villages' public notice lists (公示)
and the typical cases promoted (推广典型).

Writes go through inspections.services (reviews, inspections, rectification, cases) and
inspections.flags (the detectors behind `manage.py flag_records`).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Region
from pairing.models import Cadre, Unit
from plans.models import HouseholdPlan, VillagePlan
from shuanglian.access import Role, is_unit_liaison, region_q, scope_prefix
from shuanglian.lib.history import Tracked
from visits.models import Visit


def _everything(user) -> bool:
    return scope_prefix(user) == ""


# --- flags --------------------------------------------------------------------------------------


class VillageScopedQuerySet(models.QuerySet):
    """Rows that belong to a village (a `village` foreign key), read by the offices of its region.
    Unit liaisons see none: a flag is for the offices to review, not a verdict to pass down, and a
    notice list is the township's to post."""

    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.none()
        return self.filter(region_q(user, "village__code"))


class FlagQuerySet(VillageScopedQuerySet):
    def open(self):
        return self.filter(status=Flag.Status.OPEN)


class Flag(models.Model):
    """A record that looks fabricated, with the reason in words; an office dismisses or confirms it."""

    class Kind(models.TextChoices):
        COPIED = "雷同日记", _("雷同日记")
        IMPOSSIBLE_DAY = "不可能的一天", _("不可能的一天")
        AWAY = "外出户入户", _("外出务工户入户走访")
        BULK = "集中代录", _("集中代录")
        BALLOT = "评议不符", _("群众评议与日记不符")

    class Status(models.TextChoices):
        OPEN = "待核查", _("待核查")
        DISMISSED = "已排除", _("已排除")
        CONFIRMED = "已确认", _("已确认")

    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    # What makes the flag the same flag on the next run (kind and the records): a second run adds nothing.
    key = models.CharField(_("识别键"), max_length=80, unique=True, editable=False)
    village = models.ForeignKey(
        Region, verbose_name=_("所在村"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visits = models.ManyToManyField(
        Visit, verbose_name=_("涉及的走访记录"), through="FlagVisit", related_name="+"
    )
    reason = models.TextField(_("疑点说明"))
    similarity = models.FloatField(_("相似度"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.OPEN)
    review_note = models.CharField(_("核查意见"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    finding = models.ForeignKey(
        "Finding",
        verbose_name=_("形成的问题"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="flags",
    )
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now, editable=False)

    objects = FlagQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("疑点")
        verbose_name_plural = _("疑点")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["village", "status"], name="flag_village_status"),
            models.Index(fields=["village"], name="flag_village_like", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="flag_dismissal_has_reason",
                condition=~Q(status="已排除") | Q(review_note__gt=""),
                violation_error_message=_("排除疑点须写明理由"),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.reason[:40]}"

    @property
    def blames(self) -> bool:
        """集中代录 is the township's normal work: shown, it weighs in the sample, it blames nobody."""
        return self.kind != self.Kind.BULK


class FlagVisit(models.Model):
    flag = models.ForeignKey(Flag, verbose_name=_("疑点"), on_delete=models.CASCADE, related_name="links")
    visit = models.ForeignKey(Visit, verbose_name=_("走访记录"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("疑点涉及的走访")
        verbose_name_plural = _("疑点涉及的走访")
        constraints = [models.UniqueConstraint(fields=["flag", "visit"], name="flagvisit_once")]
        indexes = [models.Index(fields=["visit"], name="flagvisit_visit")]


class DiaryBand(models.Model):
    """One LSH band of a diary's MinHash (inspections.diaries): diaries that share a band are
    candidates for 雷同日记. Kept in the database so that a daily run compares the day's diaries
    with every earlier one without reading them again."""

    band = models.BigIntegerField(_("分段哈希"))
    # A first run writes tens of millions of rows, so each costs as little as it may. No index of its
    # own: the unique (visit, band) index below serves look-ups by visit. No database-level foreign
    # key: its check (a look-up and a row lock on the visit per band) doubled the time of writing
    # bands. Bands are derived from visits just read and rebuildable; deleting a visit through Django
    # still deletes its bands (on_delete), and a band left without its visit pairs nothing (_compare
    # skips visits it cannot read).
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("走访记录"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("日记指纹")
        verbose_name_plural = _("日记指纹")
        indexes = [models.Index(fields=["band"], name="diaryband_band")]
        constraints = [models.UniqueConstraint(fields=["visit", "band"], name="diaryband_once")]


class FlagRun(models.Model):
    """One run of flag_records: when, from which visit on, what it created."""

    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    since = models.DateField(_("起始日期"), null=True, blank=True)
    first_visit_id = models.BigIntegerField(_("起始走访编号"), default=0)
    last_visit_id = models.BigIntegerField(_("截止走访编号"), default=0)
    # The last diary band this run compared: the next run compares the bands above it, so a run
    # stopped between writing bands and comparing them leaves nothing unchecked.
    last_band_id = models.BigIntegerField(_("已比对的日记指纹编号"), default=0)
    created = models.JSONField(_("新增疑点"), default=dict)
    seconds = models.FloatField(_("用时（秒）"), default=0)

    class Meta:
        verbose_name = _("疑点筛查记录")
        verbose_name_plural = _("疑点筛查记录")
        ordering = ["-started_at"]


# --- inspections --------------------------------------------------------------------------------


class InspectionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Inspections opened in the user's region, those inspecting the user's township or unit, and
        those the user inspects for."""
        team = Q(pk__in=Inspection.team.through.objects.filter(user_id=user.pk).values("inspection_id"))
        if is_unit_liaison(user):
            units = Inspection.units.through.objects.filter(unit_id=user.unit_id).values("inspection_id")
            return self.filter(Q(pk__in=units) | team)
        prefix = scope_prefix(user)
        if prefix is None:
            return self.filter(team)
        if prefix == "":
            return self.all()
        towns = Inspection.townships.through.objects.filter(region__code__startswith=prefix).values(
            "inspection_id"
        )
        return self.filter(region_q(user, "region__code") | Q(pk__in=towns) | team)

    def managed_by(self, user):
        if is_unit_liaison(user) or user.role == Role.TOWNSHIP and not user.is_superuser:
            return self.none()
        return self.filter(region_q(user, "region__code"))


class Inspection(models.Model):
    """一次督查: an office's team checks townships or units over some days, by calling back a sample."""

    class Status(models.TextChoices):
        OPEN = "进行中", _("进行中")
        CLOSED = "已结束", _("已结束")

    region = models.ForeignKey(
        Region, verbose_name=_("组织督查的双联办"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=64)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    checks = models.TextField(_("检查内容"), help_text=_("如：听取汇报、现场督查、检查民情日记"))
    townships = models.ManyToManyField(
        Region,
        verbose_name=_("督查乡镇"),
        blank=True,
        related_name="+",
        limit_choices_to={"level": "township"},
    )
    units = models.ManyToManyField(Unit, verbose_name=_("督查单位"), blank=True, related_name="+")
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("督查组成员"), related_name="+")
    visits_from = models.DateField(_("抽查走访起始日期"))
    visits_to = models.DateField(_("抽查走访截止日期"))
    per_cadre = models.PositiveSmallIntegerField(_("每名干部抽查条数"), default=2)
    seed = models.BigIntegerField(_("随机种子"), help_text=_("记录在案，用同一种子可重复抽样。"))
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = InspectionQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("督查")
        verbose_name_plural = _("督查")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(name="inspection_dates_ordered", condition=Q(ends_on__gte=F("starts_on"))),
            models.CheckConstraint(
                name="inspection_window_ordered", condition=Q(visits_to__gte=F("visits_from"))
            ),
        ]

    def __str__(self):
        return self.name


class SampledVisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(inspection__in=Inspection.objects.visible_to(user))


class SampledVisit(models.Model):
    """A visit drawn for an inspection, and what the call-back or on-site check found."""

    class Result(models.TextChoices):
        CONFIRMED = "属实", _("属实")
        NOT_AS_RECORDED = "不符", _("与记录不符")
        UNREACHABLE = "无法联系", _("无法联系")

    class Method(models.TextChoices):
        CALL = "电话回访", _("电话回访")
        ON_SITE = "实地核查", _("实地核查")

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("督查"), on_delete=models.CASCADE, related_name="samples"
    )
    visit = models.ForeignKey(Visit, verbose_name=_("走访记录"), on_delete=models.PROTECT, related_name="+")
    # Copied at draw time: the report groups by where the visit was and whose cadre made it.
    township = models.ForeignKey(Region, verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    weight = models.PositiveSmallIntegerField(_("抽样权重"), default=1)
    order = models.PositiveIntegerField(_("抽样顺序"))
    result = models.CharField(_("核查结果"), max_length=4, choices=Result.choices, blank=True)
    method = models.CharField(_("核查方式"), max_length=4, choices=Method.choices, blank=True)
    note = models.CharField(_("核查情况"), max_length=300, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    objects = SampledVisitQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("抽查走访")
        verbose_name_plural = _("抽查走访")
        ordering = ["inspection_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "visit"], name="sampledvisit_once"),
            models.CheckConstraint(
                name="sampledvisit_result_has_method",
                condition=Q(result="") | Q(method__gt=""),
            ),
        ]

    def __str__(self):
        return f"{self.inspection}：{self.visit}"


class FindingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Findings the user's office made, or that it has items to rectify for."""
        answering = Q(pk__in=Rectification.objects.visible_to(user).values("finding_id"))
        if is_unit_liaison(user):
            return self.filter(answering)
        return self.filter(answering | region_q(user, "region__code"))


class Finding(models.Model):
    """问题: what an inspection (or a confirmed flag) found."""

    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("督查"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("提出问题的双联办"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("问题"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    objects = FindingQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("督查问题")
        verbose_name_plural = _("督查问题")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.text[:40]


class RectificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Items the user's township or unit answers for, and those of findings its office made."""
        if is_unit_liaison(user):
            return self.filter(unit_id=user.unit_id)
        if _everything(user):
            return self.all()
        return self.filter(region_q(user, "township__code") | region_q(user, "finding__region__code"))

    def to_answer_by(self, user):
        """Items waiting for the user's township or unit to answer."""
        pending = self.exclude(status=Rectification.Status.CLOSED).exclude(
            status=Rectification.Status.ANSWERED
        )
        if is_unit_liaison(user):
            return pending.filter(unit_id=user.unit_id)
        if user.role == Role.TOWNSHIP and user.region_id:
            return pending.filter(township_id=user.region_id)
        return pending.none()

    def to_close_by(self, user):
        """Items of the office's findings (answered, or overdue) that the office closes."""
        if is_unit_liaison(user) or user.role == Role.TOWNSHIP:
            return self.none()
        return self.exclude(status=Rectification.Status.CLOSED).filter(
            region_q(user, "finding__region__code")
        )

    def overdue(self, today):
        return self.exclude(status=Rectification.Status.CLOSED).filter(due_on__lt=today)


class Rectification(models.Model):
    """整改: one item of a finding for one township or unit, answered with evidence, closed by the office."""

    class Status(models.TextChoices):
        OPEN = "待整改", _("待整改")
        ANSWERED = "已答复", _("已答复")
        RETURNED = "已退回", _("已退回")
        CLOSED = "已销号", _("已销号")

    finding = models.ForeignKey(
        Finding, verbose_name=_("问题"), on_delete=models.CASCADE, related_name="rectifications"
    )
    township = models.ForeignKey(
        Region,
        verbose_name=_("责任乡镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": "township"},
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("责任单位"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requirement = models.CharField(_("整改要求"), max_length=300)
    due_on = models.DateField(_("整改期限"))
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("整改情况"), blank=True)
    evidence = models.TextField(_("佐证材料"), blank=True, help_text=_("材料名称、存放位置或编号"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    close_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销号人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)

    objects = RectificationQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="rectification_one_responsible",
                condition=Q(township__isnull=False, unit__isnull=True)
                | Q(township__isnull=True, unit__isnull=False),
                violation_error_message=_("整改事项须指定一个责任乡镇或一个责任单位"),
            )
        ]

    def __str__(self):
        return f"{self.responsible}：{self.requirement[:30]}"

    @property
    def responsible(self):
        return self.township or self.unit

    def is_overdue(self, today=None) -> bool:
        return self.status != self.Status.CLOSED and self.due_on < (today or timezone.localdate())


class RectificationEvidenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The files of the items the user sees: the answering township or unit, the closing office."""
        return self.filter(rectification__in=Rectification.objects.visible_to(user))


class RectificationEvidence(models.Model):
    """A file attached to a rectification answer (inspections.evidence checks it before it is kept).
    Kept in the database, as uploaded rosters are, so any worker on any host serves it."""

    rectification = models.ForeignKey(
        Rectification, verbose_name=_("整改事项"), on_delete=models.CASCADE, related_name="files"
    )
    name = models.CharField(_("文件名"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    content = models.BinaryField(_("文件内容"), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now, editable=False)

    objects = RectificationEvidenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改佐证文件")
        verbose_name_plural = _("整改佐证文件")
        ordering = ["rectification_id", "id"]
        # The same file sent twice (a double press, a resubmitted answer) is kept once.
        constraints = [
            models.UniqueConstraint(fields=["rectification", "sha256"], name="rectificationevidence_once")
        ]

    def __str__(self):
        return self.name


# --- public notice lists ------------------------------------------------------------------------


class NoticePosting(models.Model):
    """The township's record that a village's notice list (公示名单) was reviewed and posted. The
    digest of the list as posted tells a later change apart: the page then asks to post it again."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("村"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": "village"},
    )
    posted_on = models.DateField(_("张贴日期"))
    digest = models.CharField(_("名单摘要"), max_length=64, editable=False)
    households = models.PositiveIntegerField(_("户数"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = VillageScopedQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("公示张贴记录")
        verbose_name_plural = _("公示张贴记录")
        ordering = ["village_id", "-posted_on", "-id"]

    def __str__(self):
        return f"{self.village}（{self.posted_on}）"


# --- typical cases ------------------------------------------------------------------------------


class TypicalCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every office reads approved cases; nominations, by the nominating office and those above it."""
        if is_unit_liaison(user) or scope_prefix(user) is None:
            return self.none()
        return self.filter(Q(status=TypicalCase.Status.APPROVED) | region_q(user, "region__code"))

    def approved(self):
        return self.filter(status=TypicalCase.Status.APPROVED)


class TypicalCase(models.Model):
    """推广典型: an office nominates a diary, a household plan, a village plan, a cadre or a unit;
    the office one level up approves it; approved cases are published on the 典型经验 page."""

    class Kind(models.TextChoices):
        DIARY = "日记", _("民情日记")
        HOUSEHOLD_PLAN = "户计划", _("户帮扶计划及成效")
        VILLAGE_PLAN = "村计划", _("村帮扶计划")
        CADRE = "干部", _("帮扶干部")
        UNIT = "单位", _("帮扶单位")

    class Status(models.TextChoices):
        NOMINATED = "待审核", _("待审核")
        APPROVED = "已通过", _("已通过")
        RETURNED = "已退回", _("已退回")

    kind = models.CharField(_("类型"), max_length=4, choices=Kind.choices)
    visit = models.ForeignKey(
        Visit, verbose_name=_("民情日记"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    household_plan = models.ForeignKey(
        HouseholdPlan,
        verbose_name=_("户帮扶计划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    village_plan = models.ForeignKey(
        VillagePlan,
        verbose_name=_("村帮扶计划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=100)
    write_up = models.TextField(_("典型材料"))
    region = models.ForeignKey(
        Region, verbose_name=_("推荐的双联办"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.NOMINATED)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("推荐人"), on_delete=models.PROTECT, related_name="+"
    )
    nominated_at = models.DateTimeField(_("推荐时间"), auto_now_add=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    objects = TypicalCaseQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("典型案例")
        verbose_name_plural = _("典型案例")
        ordering = ["-nominated_at", "-id"]

    def __str__(self):
        return self.title
