"""Mass evaluation (群众评议): rounds, their questionnaire, the sampled households, the collectors and
the ballots. Every write goes through evaluation.services; scores are computed in evaluation.scores.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from households.models import Household, Region
from pairing.models import Cadre, Unit
from shuanglian.access import LEVEL_DIGITS, is_unit_liaison, region_q, scope_prefix


def _covering_codes(user) -> list[str]:
    """Codes of the regions above and at the user's scope: a round opened there covers the user."""
    prefix = scope_prefix(user)
    if not prefix:
        return []
    return [prefix[:digits].ljust(12, "0") for digits in LEVEL_DIGITS.values() if digits <= len(prefix)]


class RoundQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rounds opened in the user's region, or above it (a county reads the province's round for its
        part); a unit liaison, the rounds that sampled its cadres; a collector, the rounds they
        collect for."""
        collecting = Q(pk__in=SampledHousehold.objects.filter(collector__user_id=user.pk).values("round_id"))
        if is_unit_liaison(user):
            sampled = SampledHousehold.objects.filter(cadre_unit_id=user.unit_id).values("round_id")
            return self.filter(Q(pk__in=sampled) | collecting)
        prefix = scope_prefix(user)
        if prefix is None:
            return self.filter(collecting)
        if prefix == "":  # everything; an empty Q() would vanish from the OR below
            return self.all()
        return self.filter(
            region_q(user, "region__code") | Q(region_id__in=_covering_codes(user)) | collecting
        )

    def managed_by(self, user):
        """Rounds the user's office opened or that lie within its region: a county reads the
        province's round for its part but does not edit, assign or close it."""
        if is_unit_liaison(user) or scope_prefix(user) is None:
            return self.none()
        return self.filter(region_q(user, "region__code"))

    def open(self):
        return self.filter(status=Round.Status.OPEN)


class Round(models.Model):
    """一轮群众评议: an office's scope and period, its sample, collection window, weights and grade lines."""

    class Period(models.IntegerChoices):
        YEAR = 0, _("全年")
        FIRST_HALF = 1, _("上半年")
        SECOND_HALF = 2, _("下半年")

    class Status(models.TextChoices):
        OPEN = "进行中", _("进行中")
        CLOSED = "已结束", _("已结束")

    class SampleMethod(models.TextChoices):
        ALL = "全部", _("全部帮扶贫困户")
        PER_CADRE = "每名干部", _("每名干部抽取N户")
        PER_VILLAGE = "每村比例", _("每村按比例抽取")

    region = models.ForeignKey(
        Region,
        verbose_name=_("评议范围"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": ["province", "city", "county"]},
    )
    name = models.CharField(_("名称"), max_length=64)
    year = models.PositiveSmallIntegerField(_("年度"))
    period = models.PositiveSmallIntegerField(_("期间"), choices=Period.choices, default=Period.YEAR)
    starts_on = models.DateField(_("收集开始日期"))
    ends_on = models.DateField(_("收集截止日期"))
    weight_masses = models.PositiveSmallIntegerField(_("群众评议权重（%）"), default=60)
    weight_process = models.PositiveSmallIntegerField(_("过程指标权重（%）"), default=40)
    excellent_min = models.PositiveSmallIntegerField(_("优秀分数线"), default=90)
    excellent_share = models.PositiveSmallIntegerField(_("优秀比例上限（%）"), default=20)
    good_min = models.PositiveSmallIntegerField(_("良好分数线"), default=80)
    pass_min = models.PositiveSmallIntegerField(_("合格分数线"), default=60)
    pace_minutes = models.PositiveSmallIntegerField(
        _("采集间隔下限（分钟）"),
        default=3,
        help_text=_("同一采集员手机提交的两张评议票间隔短于此数，记为“采集过快”。"),
    )
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.OPEN)
    sample_method = models.CharField(_("抽样方式"), max_length=4, choices=SampleMethod.choices)
    sample_parameter = models.PositiveSmallIntegerField(
        _("抽样参数"), default=0, help_text=_("每名干部抽取的户数，或每村抽取的百分比；全部抽取时不用。")
    )
    seed = models.BigIntegerField(_("随机种子"), help_text=_("记录在案，任何人用同一种子可重复抽样。"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结束人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    scored_at = models.DateTimeField(
        _("得分计算时间"), null=True, blank=True, help_text=_("结束时计算并保存；进行中可由双联办重新计算。")
    )

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议轮次")
        verbose_name_plural = _("评议轮次")
        ordering = ["-year", "-period", "region_id", "-id"]
        constraints = [
            models.CheckConstraint(
                name="round_weights_sum_to_100",
                condition=Q(weight_masses__lte=100, weight_process__lte=100)
                & Q(weight_masses=100 - F("weight_process")),
            ),
            models.CheckConstraint(name="round_window_ordered", condition=Q(ends_on__gte=F("starts_on"))),
            models.CheckConstraint(
                name="round_grade_lines_ordered",
                condition=Q(
                    excellent_min__gte=F("good_min"),
                    good_min__gte=F("pass_min"),
                    excellent_min__lte=100,
                    excellent_share__lte=100,
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class QuestionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The questionnaires of the rounds the user may read."""
        return self.filter(round__in=Round.objects.visible_to(user))


class Question(models.Model):
    """One item of a round's questionnaire; see evaluation.questionnaire for the shape of `choices`."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("单选")
        MULTIPLE = "multiple", _("多选")
        TEXT = "text", _("文字")

    round = models.ForeignKey(
        Round, verbose_name=_("评议轮次"), on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveSmallIntegerField(_("序号"))
    code = models.SlugField(_("代码"), max_length=32)
    text = models.CharField(_("题目"), max_length=200)
    kind = models.CharField(_("题型"), max_length=8, choices=Kind.choices)
    choices = models.JSONField(_("选项"), default=list, blank=True)
    scored = models.BooleanField(_("计入群众评议得分"), default=False)
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)
    required = models.BooleanField(_("必答"), default=False)
    allow_text = models.BooleanField(_("可填写文字"), default=False)
    text_required_for = models.CharField(_("选此项须说明"), max_length=32, blank=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议题目")
        verbose_name_plural = _("评议题目")
        ordering = ["round_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="question_unique_code_per_round"),
            models.UniqueConstraint(fields=["round", "order"], name="question_unique_order_per_round"),
        ]

    def __str__(self):
        return self.text

    @property
    def values(self) -> list[str]:
        return [choice["value"] for choice in self.choices]

    def score_of(self, value):
        """The score of a chosen value, or None when it is not scored (不了解, an unscored question)."""
        if not self.scored:
            return None
        for choice in self.choices:
            if choice["value"] == value:
                return choice.get("score")
        return None


class CollectorQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user) or scope_prefix(user) is None:
            return self.filter(user_id=user.pk)
        return self.filter(region_q(user, "region__code"))

    def active(self):
        return self.filter(active=True)


class Collector(models.Model):
    """An account that collects ballots: office staff marked as collectors, or a volunteer the office
    registers.

    `unit` is where the person works (empty for office staff and volunteers outside any unit): a
    collector never scores a cadre of that unit (services refuse it, SampledHousehold's check too)."""

    class Kind(models.TextChoices):
        STAFF = "工作人员", _("双联办工作人员")
        VOLUNTEER = "志愿者", _("志愿者")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        on_delete=models.PROTECT,
        related_name="collector",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("登记办公室辖区"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=4, choices=Kind.choices)
    name = models.CharField(_("姓名"), max_length=32)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("工作单位"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField(_("有效"), default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = CollectorQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议采集员")
        verbose_name_plural = _("评议采集员")
        ordering = ["region_id", "name", "id"]

    def __str__(self):
        return self.name


class SampledHouseholdQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows of households in the user's region; a unit liaison, its cadres' rows; a collector, theirs."""
        collecting = Q(collector__user_id=user.pk)
        # Only an account marked as a collector gets the OR: it keeps the planner off the indexes.
        is_collector = Collector.objects.filter(user_id=user.pk).exists() if user.pk else False
        if is_unit_liaison(user):
            return self.filter(
                (Q(cadre_unit_id=user.unit_id) | collecting)
                if is_collector
                else Q(cadre_unit_id=user.unit_id)
            )
        prefix = scope_prefix(user)
        if prefix is None:
            return self.filter(collecting)
        if prefix == "":
            return self.all()
        in_region = Q(household__village__code__startswith=prefix)
        return self.filter((in_region | collecting) if is_collector else in_region)

    def assigned_to(self, user):
        return self.filter(collector__user_id=user.pk)

    def in_sample(self):
        """The households whose answer counts: drawn or substituting, not given up as unreachable."""
        return self.exclude(status=SampledHousehold.Status.UNREACHABLE)


class SampledHousehold(models.Model):
    """A household drawn for a round, with its responsible cadre and that cadre's unit at draw time."""

    class Status(models.TextChoices):
        PENDING = "待采集", _("待采集")
        COLLECTED = "已采集", _("已采集")
        UNREACHABLE = "无法联系", _("无法联系")

    class Unreachable(models.TextChoices):
        AWAY = "外出", _("外出")
        REFUSED = "拒访", _("拒访")
        NOBODY_HOME = "无人在家", _("无人在家")

    round = models.ForeignKey(
        Round, verbose_name=_("评议轮次"), on_delete=models.CASCADE, related_name="samples"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="+"
    )
    cadre = models.ForeignKey(Cadre, verbose_name=_("帮扶干部"), on_delete=models.PROTECT, related_name="+")
    # Copied from the cadre (and the collector) so that the database itself can refuse a collector of
    # the cadre's own unit: a check constraint sees only its own row.
    cadre_unit = models.ForeignKey(
        Unit, verbose_name=_("干部单位"), on_delete=models.PROTECT, related_name="+"
    )
    collector = models.ForeignKey(
        Collector,
        verbose_name=_("采集员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="samples",
    )
    collector_unit = models.ForeignKey(
        Unit, verbose_name=_("采集员单位"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    group_key = models.CharField(_("抽样分组"), max_length=32, help_text=_("干部编号、村代码或“全部”。"))
    order = models.PositiveIntegerField(_("抽样顺序"))
    substitute_for = models.OneToOneField(
        "self",
        verbose_name=_("替补原样本户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="substitute",
    )
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.PENDING)
    unreachable_reason = models.CharField(
        _("无法联系原因"), max_length=4, choices=Unreachable.choices, blank=True
    )
    unreachable_note = models.CharField(_("说明"), max_length=200, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    marked_at = models.DateTimeField(_("登记时间"), null=True, blank=True)

    objects = SampledHouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("样本户")
        verbose_name_plural = _("样本户")
        ordering = ["round_id", "household__village_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="sample_one_per_round_household"),
            models.CheckConstraint(
                name="sample_collector_not_of_cadre_unit",
                condition=Q(collector_unit__isnull=True) | ~Q(collector_unit=F("cadre_unit")),
                violation_error_message=_("采集员不能评议本单位干部"),
            ),
            models.CheckConstraint(
                name="sample_unreachable_has_reason",
                condition=Q(status="无法联系", unreachable_reason__gt="")
                | (~Q(status="无法联系") & Q(unreachable_reason="")),
            ),
        ]
        indexes = [models.Index(fields=["round", "cadre"], name="sample_round_cadre")]

    def __str__(self):
        return f"{self.round}：{self.household}"


class BallotQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(sample__in=SampledHousehold.objects.visible_to(user))


class Ballot(models.Model):
    """A household's answers in a round: one per household per round, by the database."""

    class Mode(models.TextChoices):
        HOME = "入户", _("入户")
        PHONE = "电话", _("电话")

    class Source(models.TextChoices):
        PHONE = "手机", _("手机采集")
        PAPER = "纸质", _("纸质评议表导入")

    round = models.ForeignKey(
        Round, verbose_name=_("评议轮次"), on_delete=models.PROTECT, related_name="ballots"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="+"
    )
    sample = models.OneToOneField(
        SampledHousehold, verbose_name=_("样本户"), on_delete=models.PROTECT, related_name="ballot"
    )
    collector = models.ForeignKey(
        Collector, verbose_name=_("采集员"), on_delete=models.PROTECT, related_name="ballots"
    )
    collected_at = models.DateTimeField(_("采集时间"))
    mode = models.CharField(_("方式"), max_length=2, choices=Mode.choices)
    source = models.CharField(_("来源"), max_length=2, choices=Source.choices, default=Source.PHONE)
    # {question code: value | [values] | text, "<code>__text": explanation}
    answers = models.JSONField(_("答卷"))
    corrected = models.BooleanField(_("已更正"), default=False)

    objects = BallotQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议票")
        verbose_name_plural = _("评议票")
        ordering = ["round_id", "collected_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="ballot_one_per_round_household")
        ]

    def __str__(self):
        return f"{self.round}：{self.household}"


class BallotCorrectionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(ballot__in=Ballot.objects.visible_to(user))


class BallotCorrection(models.Model):
    """An office's change to a submitted ballot: the old and the new answers, who and why."""

    ballot = models.ForeignKey(
        Ballot, verbose_name=_("评议票"), on_delete=models.CASCADE, related_name="corrections"
    )
    old_answers = models.JSONField(_("原答卷"))
    new_answers = models.JSONField(_("新答卷"))
    reason = models.CharField(_("更正理由"), max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("更正人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("更正时间"), auto_now_add=True)

    objects = BallotCorrectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议票更正")
        verbose_name_plural = _("评议票更正")
        ordering = ["ballot_id", "at", "id"]

    def __str__(self):
        return f"{self.ballot}（{self.at:%Y-%m-%d}）"


class FlagQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Flags of the rounds the user's office manages (they are the office's to check)."""
        return self.filter(round__in=Round.objects.managed_by(user))

    def unchecked(self):
        return self.filter(checked_at__isnull=True)


class Flag(models.Model):
    """An integrity flag on a round (疑点): something in the ballots worth a second look, saying why.

    Found by evaluation.flags; `key` names what it is about (a sample, a collector, a village), so
    looking again refreshes the reason without losing the office's check."""

    class Kind(models.TextChoices):
        VISITS = "走访次数不符", _("走访次数不符")
        PACE = "采集过快", _("采集过快")
        IDENTICAL = "答卷雷同", _("答卷雷同")

    round = models.ForeignKey(
        Round, verbose_name=_("评议轮次"), on_delete=models.CASCADE, related_name="flags"
    )
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    key = models.CharField(_("对象"), max_length=32)
    village = models.ForeignKey(
        Region, verbose_name=_("村"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("原因"))
    found_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    check_note = models.CharField(_("核实说明"), max_length=200, blank=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议疑点")
        verbose_name_plural = _("评议疑点")
        ordering = ["round_id", "kind", "key"]
        constraints = [
            models.UniqueConstraint(fields=["round", "kind", "key"], name="flag_one_per_round_kind_key")
        ]

    def __str__(self):
        return f"{self.round}：{self.kind}"


class ViolationCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Cases of the rounds the user's office manages, within its region."""
        return self.filter(
            round__in=Round.objects.managed_by(user),
            ballot__sample__in=SampledHousehold.objects.visible_to(user),
        )


class ViolationCase(models.Model):
    """A ballot that answered 有 to 八个不准: the office checks it and records the outcome."""

    class Status(models.TextChoices):
        CHECKING = "核查中", _("核查中")
        TRUE = "属实", _("属实")
        UNFOUNDED = "不属实", _("不属实")

    round = models.ForeignKey(
        Round, verbose_name=_("评议轮次"), on_delete=models.CASCADE, related_name="violation_cases"
    )
    ballot = models.OneToOneField(
        Ballot, verbose_name=_("评议票"), on_delete=models.CASCADE, related_name="violation_case"
    )
    cadre = models.ForeignKey(Cadre, verbose_name=_("被反映干部"), on_delete=models.PROTECT, related_name="+")
    report = models.TextField(_("反映情况"))
    status = models.CharField(_("状态"), max_length=3, choices=Status.choices, default=Status.CHECKING)
    outcome = models.TextField(_("核查结果"), blank=True)
    opened_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = ViolationCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("“八个不准”反映")
        verbose_name_plural = _("“八个不准”反映")
        ordering = ["round_id", "status", "opened_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="violation_case_settled_has_outcome",
                condition=Q(status="核查中") | Q(outcome__gt=""),
                violation_error_message=_("核查结论须写明核查结果。"),
            )
        ]

    def __str__(self):
        return f"{self.ballot}：{self.status}"


class ScoreQuerySet(models.QuerySet):
    def visible_to(self, user):
        """What the score pages show the user: a cadre's row where the user may see one of the
        cadre's sampled households in that round, a unit's where one of its cadres' (a unit
        liaison: its own unit's rows too)."""
        if scope_prefix(user) == "" and not is_unit_liaison(user):
            return self.all()
        samples = SampledHousehold.objects.visible_to(user).filter(round=OuterRef("round"))
        seen = Q(kind=Score.Kind.CADRE) & Exists(samples.filter(cadre=OuterRef("cadre")))
        seen |= Q(kind=Score.Kind.UNIT) & Exists(samples.filter(cadre_unit=OuterRef("unit")))
        if is_unit_liaison(user):
            seen |= Q(kind=Score.Kind.UNIT, unit_id=user.unit_id)
        return self.filter(seen)


class Score(models.Model):
    """A cadre's or unit's score as computed and stored for a round (evaluation.scores defines every
    figure): pages of a large round read these rows instead of computing over all its ballots."""

    class Kind(models.TextChoices):
        CADRE = "干部", _("干部")
        UNIT = "单位", _("单位")

    round = models.ForeignKey(
        Round, verbose_name=_("评议轮次"), on_delete=models.CASCADE, related_name="scores"
    )
    kind = models.CharField(_("类别"), max_length=2, choices=Kind.choices)
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    unit_name = models.CharField(_("单位名称"), max_length=100, blank=True)
    cadres = models.PositiveIntegerField(_("评议干部数"), default=0)
    ballots = models.PositiveIntegerField(_("评议票"), default=0)
    counted = models.PositiveIntegerField(_("有效票"), default=0)
    masses = models.FloatField(_("群众评议得分"), null=True, blank=True)
    process = models.FloatField(_("过程指标得分"), null=True, blank=True)
    combined = models.FloatField(_("综合得分"), null=True, blank=True)
    grade = models.CharField(_("等次"), max_length=4, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    # [[indicator code, numerator, denominator], …] for a cadre
    indicators = models.JSONField(_("过程指标"), default=list, blank=True)

    objects = ScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议得分")
        verbose_name_plural = _("评议得分")
        ordering = ["round_id", "kind", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "cadre"], condition=Q(kind="干部"), name="score_one_per_round_cadre"
            ),
            models.UniqueConstraint(
                fields=["round", "unit"], condition=Q(kind="单位"), name="score_one_per_round_unit"
            ),
        ]
        indexes = [models.Index(fields=["round", "kind", "rank"], name="score_round_kind_rank")]

    def __str__(self):
        return f"{self.round}：{self.name}"
