from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from households.models import Household, Region
from shuanglian.access import is_unit_liaison, region_q
from shuanglian.lib import idcard
from shuanglian.lib.history import Tracked
from shuanglian.lib.versions import Versioned


def household_scope_q(user, field: str) -> Q:
    """Rows whose household (reached through `field`) the user may see: the rule for every pairing write.

    The same rule as `Household.objects.visible_to`; region roles get a plain prefix filter on the
    household's village, without a subquery.
    """
    if is_unit_liaison(user):
        return Q(**{f"{field}__in": Household.objects.visible_to(user).values("pk")})
    return region_q(user, f"{field}__village__code")


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Units seated in the user's region or linking a village there."""
        if is_unit_liaison(user):
            return self.filter(pk=user.unit_id)
        linking = (
            VillageLink.objects.open().filter(region_q(user, "village__code")).order_by().values("unit_id")
        )
        # One id set as a UNION, not `seat OR linking`: each arm is served by its own index, while
        # an OR of the two made PostgreSQL read every unit and test both.
        seated = Unit.objects.filter(region_q(user, "region__code")).order_by().values("pk")
        return self.filter(pk__in=seated.union(linking))


class Unit(Versioned):
    """A 单位 that links villages and whose cadres pair with households."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省直")
        CITY = "city", _("市直")
        COUNTY = "county", _("县直")
        TOWNSHIP = "township", _("乡镇")

    class Kind(models.TextChoices):
        PARTY_GOVERNMENT = "党政机关", _("党政机关")
        INSTITUTION = "事业单位", _("事业单位")
        PEOPLES_ORGANISATION = "人民团体", _("人民团体")
        STATE_ENTERPRISE = "国有企业", _("国有企业")
        GARRISON = "驻甘部队", _("驻甘部队")
        CENTRAL = "中央在甘单位", _("中央在甘单位")

    name = models.CharField(_("单位名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("单位性质"), max_length=8, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("所在地"), on_delete=models.PROTECT, related_name="seated_units"
    )

    objects = UnitQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["region_id", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unit_unique_name_per_region")]

    def __str__(self):
        return self.name


class CadreQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Cadres of visible units, and cadres helping a household in the user's region."""
        if is_unit_liaison(user):
            return self.filter(unit_id=user.unit_id)
        helping = (
            Pairing.objects.open()
            .filter(region_q(user, "household__village__code"))
            .order_by()
            .values("cadre_id")
        )
        # A UNION of the two id sets, not `unit OR helping`: with the OR, a township's cadre list read
        # every cadre and every pairing of the province (issue 18); each arm alone follows an index.
        of_units = Cadre.objects.filter(unit__in=Unit.objects.visible_to(user)).order_by().values("pk")
        return self.filter(pk__in=of_units.union(helping))

    def active(self):
        return self.filter(status=Cadre.Status.ACTIVE)

    def search(self, text: str):
        """By the trailing digits of the phone, else by cadre or unit name."""
        text = idcard.normalize(text)
        if not text:
            return self
        if text.isdigit():
            return self.filter(phone__endswith=text)
        return self.filter(Q(name__contains=text) | Q(unit__name__contains=text))


class Cadre(Versioned):
    class Rank(models.TextChoices):
        COUNTY_LEADER = "县级", _("县级领导干部")
        SECTION = "科级", _("科级干部")
        STAFF = "一般", _("一般干部")

    class Category(models.TextChoices):
        CIVIL_SERVANT = "公务员", _("公务员")
        REFERENCE = "参公人员", _("参照公务员法管理人员")
        INSTITUTION = "事业人员", _("事业单位管理人员")
        TEACHER = "教师", _("教师")
        MEDICAL = "医务人员", _("医务人员")
        ENTERPRISE = "企业职工", _("企业职工")

    # The campaign exempts these from pairing with households.
    EXEMPT_CATEGORIES = (Category.TEACHER, Category.MEDICAL, Category.ENTERPRISE)

    class Status(models.TextChoices):
        ACTIVE = "在岗", _("在岗")
        TRANSFERRED = "调离", _("调离")
        RETIRED = "退休", _("退休")

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="cadres")
    name = models.CharField(_("姓名"), max_length=32)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    post = models.CharField(_("职务"), max_length=64, blank=True)
    rank = models.CharField(_("职级"), max_length=4, choices=Rank.choices, default=Rank.STAFF)
    category = models.CharField(_("人员类别"), max_length=8, choices=Category.choices)
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.ACTIVE)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = CadreQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("干部")
        verbose_name_plural = _("干部")
        ordering = ["unit_id", "name", "id"]
        indexes = [models.Index(fields=["unit", "status"], name="cadre_unit_status")]

    def __str__(self):
        return self.name

    @property
    def choice_label(self) -> str:
        return f"{self.name}（{self.unit.name}）"

    @property
    def is_exempt(self) -> bool:
        return self.category in self.EXEMPT_CATEGORIES

    def clean(self):
        # Forms (the admin included) may not strand households: leaving goes through a handover.
        if (
            self.pk
            and self.status != self.Status.ACTIVE
            and self.pairings.filter(ended_on__isnull=True).exists()
        ):
            raise ValidationError({"status": _("该干部还有联系户，请先办理交接，再改为调离或退休。")})


class RelationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(ended_on__isnull=True)

    def on(self, day):
        """The relations in force on `day`."""
        return self.filter(Q(started_on__lte=day), Q(ended_on__isnull=True) | Q(ended_on__gt=day))


class DatedRelation(models.Model):
    """A relation that is ended, never deleted, so its history survives transfers."""

    class EndReason(models.TextChoices):
        TRANSFER = "调动", _("调动")
        RETIREMENT = "退休", _("退休")
        LIFTED = "户已脱贫", _("户已脱贫")
        MOVED_OUT = "户迁出", _("户迁出")
        ADJUSTMENT = "调整", _("调整")
        OTHER = "其他", _("其他")

    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=8, choices=EndReason.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class VillageLinkQuerySet(RelationQuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(unit_id=user.unit_id)
        return self.filter(region_q(user, "village__code") | region_q(user, "unit__region__code"))


class VillageLink(DatedRelation):
    """联村: a unit linked to a (poor) village."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="village_links"
    )
    village = models.ForeignKey(
        Region,
        verbose_name=_("联系村"),
        on_delete=models.PROTECT,
        related_name="village_links",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )

    objects = VillageLinkQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("联村关系")
        verbose_name_plural = _("联村关系")
        ordering = ["-started_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="villagelink_ends_after_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
            ),
            models.UniqueConstraint(
                fields=["unit", "village"],
                condition=Q(ended_on__isnull=True),
                name="villagelink_one_open_per_unit_village",
            ),
        ]

    def __str__(self):
        return f"{self.unit} — {self.village}"


class PairingQuerySet(RelationQuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(cadre__unit_id=user.unit_id)
        return self.filter(region_q(user, "household__village__code"))

    def of_visible_households(self, user):
        """Pairings an office may act on: those of households it may see (a unit's past ones excluded)."""
        return self.filter(household_scope_q(user, "household"))

    def responsible(self):
        return self.filter(role=Pairing.Role.RESPONSIBLE)


class Pairing(DatedRelation):
    """联户: a cadre linked to a household, as its responsible helper or as a contact."""

    class Role(models.TextChoices):
        RESPONSIBLE = "帮扶责任人", _("帮扶责任人")
        CONTACT = "联系户", _("联系户")

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="pairings"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="pairings"
    )
    role = models.CharField(_("联系类型"), max_length=8, choices=Role.choices, default=Role.RESPONSIBLE)

    objects = PairingQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("联户关系")
        verbose_name_plural = _("联户关系")
        ordering = ["-started_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="pairing_ends_after_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
            ),
            # At most one responsible cadre per household at a time: a database rule.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(ended_on__isnull=True, role="帮扶责任人"),
                name="pairing_one_open_responsible_per_household",
            ),
            models.UniqueConstraint(
                fields=["cadre", "household"],
                condition=Q(ended_on__isnull=True),
                name="pairing_one_open_per_cadre_household",
            ),
        ]
        # Loads per cadre (coverage, rules) read only open pairings: an index-only scan.
        indexes = [
            models.Index(
                fields=["cadre", "role"], condition=Q(ended_on__isnull=True), name="pairing_open_by_cadre"
            ),
            # A region's open pairings from its households, in the index alone (the cadres helping
            # in a county's townships): without it a county's count scanned every open pairing.
            models.Index(
                fields=["household"],
                include=["cadre", "role"],
                condition=Q(ended_on__isnull=True),
                name="pairing_open_by_household",
            ),
        ]

    def __str__(self):
        return f"{self.cadre} — {self.household}"


class CadreLoad(models.Model):
    """A cadre's open pairings with households of one county: the load the coverage page judges.

    A tally (pairing/tallies.py), kept in the transaction of every write that opens or ends a
    pairing or moves a paired household; `manage.py rebuild_pairing_tallies` recounts it. Rows
    whose count falls to 0 stay, holding 0. The county is a code, not a key: limits are looked up
    by it (RankLimit.county_id) and a county without a Region row must not refuse a pairing.
    """

    cadre = models.ForeignKey(Cadre, verbose_name=_("干部"), on_delete=models.CASCADE, related_name="+")
    county = models.CharField(_("农户所在县代码"), max_length=12)
    households = models.PositiveIntegerField(_("联系户数（含帮扶户）"), default=0)
    responsible = models.PositiveIntegerField(_("帮扶户数"), default=0)

    class Meta:
        verbose_name = _("干部联户数汇总")
        verbose_name_plural = _("干部联户数汇总")
        constraints = [
            models.UniqueConstraint(fields=["cadre", "county"], name="cadreload_one_per_cadre_county"),
            models.CheckConstraint(
                name="cadreload_responsible_within", condition=Q(responsible__lte=F("households"))
            ),
        ]
        indexes = [
            # The cadres helping in a county, city or the province (pairing/indicators.py).
            models.Index(
                fields=["county", "cadre"], name="cadreload_held_by_county", condition=Q(households__gt=0)
            ),
            # Each cadre's loads in cadre order from the index alone (coverage.py's per-cadre sums):
            # reading the rows from the table, in that order, took most of the province's cadre count.
            models.Index(
                fields=["cadre"],
                include=["county", "households", "responsible"],
                name="cadreload_held_by_cadre",
                condition=Q(households__gt=0),
            ),
        ]

    def __str__(self):
        return f"{self.cadre}（{self.county}）：{self.households} 户，帮扶 {self.responsible} 户"


class CadreStanding(models.Model):
    """What the coverage page judges a cadre by: the unit's seat, rank, category, whether active,
    the household counties of the open pairings and the load there (a tally, pairing/standings.py).

    One row per cadre; it remembers which StandingCount row the cadre is counted in, so a write
    moves the cadre from its old count to its new one without being told what changed. Limits are
    not in it: they are joined live when the counts are read.
    """

    cadre = models.OneToOneField(
        Cadre, verbose_name=_("干部"), on_delete=models.CASCADE, primary_key=True, related_name="standing"
    )
    seat = models.CharField(_("单位驻地代码"), max_length=12)
    rank = models.CharField(_("职级"), max_length=4, choices=Cadre.Rank.choices)
    category = models.CharField(_("人员类别"), max_length=8, choices=Cadre.Category.choices)
    active = models.BooleanField(_("在岗"), default=False)
    # The counties' codes, sorted and comma-joined ('' for a cadre with no open pairing).
    counties = models.TextField(_("联系户所在县代码"), blank=True)
    households = models.PositiveIntegerField(_("联系户数（含帮扶户）"), default=0)
    responsible = models.PositiveIntegerField(_("帮扶户数"), default=0)

    class Meta:
        verbose_name = _("干部联户状况")
        verbose_name_plural = _("干部联户状况")

    def __str__(self):
        return f"{self.cadre_id}：{self.households} 户，帮扶 {self.responsible} 户"


class StandingCount(models.Model):
    """How many cadres share one standing (seat, rank, category, active, counties, load): the few
    tens of thousands of rows the coverage page's cadre figures add up, joined to the live limits,
    instead of judging ~400k cadres one by one (issue 18). Kept with CadreStanding
    (pairing/standings.py); rows falling to 0 stay."""

    seat = models.CharField(_("单位驻地代码"), max_length=12)
    rank = models.CharField(_("职级"), max_length=4, choices=Cadre.Rank.choices)
    category = models.CharField(_("人员类别"), max_length=8, choices=Cadre.Category.choices)
    active = models.BooleanField(_("在岗"))
    counties = models.TextField(_("联系户所在县代码"), blank=True)
    households = models.PositiveIntegerField(_("联系户数（含帮扶户）"))
    responsible = models.PositiveIntegerField(_("帮扶户数"))
    # Not Positive: a tally that drifted (a bulk write without a rebuild) must not refuse a pairing.
    cadres = models.IntegerField(_("干部人数"), default=0)

    class Meta:
        verbose_name = _("干部联户状况人数")
        verbose_name_plural = _("干部联户状况人数")
        constraints = [
            # Also the index a region's counts read: a range of the seat code.
            models.UniqueConstraint(
                fields=["seat", "rank", "category", "active", "counties", "households", "responsible"],
                name="standingcount_one_per_standing",
            )
        ]

    def __str__(self):
        return f"{self.seat} {self.rank} {self.category} {self.counties}：{self.cadres} 人"


# --- Rules, set per county by its office --------------------------------------------------------


def default_exempt_categories():
    return list(Cadre.EXEMPT_CATEGORIES)


class CountyRulesQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(region_q(user, "county__code"))


class CountyRules(models.Model):
    """How a county pairs: who is exempt and whether households must lie in the unit's villages."""

    county = models.OneToOneField(
        Region,
        verbose_name=_("县（市、区）"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="pairing_rules",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    exempt_categories = models.JSONField(
        _("不安排联户的人员类别"), default=default_exempt_categories, blank=True
    )
    households_in_linked_villages = models.BooleanField(
        _("联系户须在本单位联系村"), default=True, help_text=_("例外须逐人登记理由。")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = CountyRulesQuerySet.as_manager()

    class Meta:
        verbose_name = _("县级联户规则")
        verbose_name_plural = _("县级联户规则")

    def __str__(self):
        return f"{self.county}联户规则"


class RankLimitQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(region_q(user, "county__code"))


class RankLimit(models.Model):
    """How many households a cadre of a rank links and helps in one county (data, not constants)."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("县（市、区）"),
        on_delete=models.PROTECT,
        related_name="rank_limits",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    rank = models.CharField(_("职级"), max_length=4, choices=Cadre.Rank.choices)
    max_households = models.PositiveSmallIntegerField(_("联系户上限（含帮扶户）"))
    max_poor = models.PositiveSmallIntegerField(_("帮扶贫困户上限"))
    min_poor = models.PositiveSmallIntegerField(
        _("帮扶贫困户下限"), default=1, help_text=_("低于下限只提示，不拦截。")
    )

    objects = RankLimitQuerySet.as_manager()

    # What a county starts with until its office edits them: 县级 10/5, 科级 10/3, others 5/2.
    DEFAULTS = {
        Cadre.Rank.COUNTY_LEADER: (10, 5),
        Cadre.Rank.SECTION: (10, 3),
        Cadre.Rank.STAFF: (5, 2),
    }

    class Meta:
        verbose_name = _("联户数量标准")
        verbose_name_plural = _("联户数量标准")
        ordering = ["county_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["county", "rank"], name="ranklimit_one_per_county_rank"),
            models.CheckConstraint(
                name="ranklimit_poor_within_total", condition=Q(max_poor__lte=F("max_households"))
            ),
            models.CheckConstraint(name="ranklimit_min_within_max", condition=Q(min_poor__lte=F("max_poor"))),
        ]

    def __str__(self):
        return f"{self.county} {self.get_rank_display()}"


class PairingExceptionQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(cadre__unit_id=user.unit_id)
        return self.filter(region_q(user, "village__code"))


class PairingException(models.Model):
    """A recorded exception: this cadre may help households in a village its unit does not link."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="exceptions"
    )
    village = models.ForeignKey(
        Region,
        verbose_name=_("村"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    reason = models.CharField(_("理由"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = PairingExceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("跨村联户例外")
        verbose_name_plural = _("跨村联户例外")
        constraints = [
            models.UniqueConstraint(fields=["cadre", "village"], name="exception_one_per_cadre_village")
        ]

    def __str__(self):
        return f"{self.cadre} @ {self.village}"


# --- Proposals and handovers: reviewable batches of pairings ------------------------------------


class ProposalQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.none()
        return self.filter(region_q(user, "region__code"))


class Proposal(models.Model):
    """A suggested set of pairings for a township or village, reviewed before it is applied."""

    class Status(models.TextChoices):
        DRAFT = "待审核", _("待审核")
        APPLIED = "已实施", _("已实施")
        DISCARDED = "已作废", _("已作废")

    region = models.ForeignKey(Region, verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField(_("结对日期"))
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.DRAFT)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("生成人"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("实施时间"), null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("结对方案")
        verbose_name_plural = _("结对方案")
        ordering = ["-proposed_at", "-id"]

    def __str__(self):
        return f"{self.region}结对方案（{self.proposed_at:%Y-%m-%d}）"


class ProposalLine(models.Model):
    """One household in a proposal: the cadre suggested, or why none could be."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="lines"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="+"
    )
    suggested_cadre = models.ForeignKey(
        Cadre, verbose_name=_("建议干部"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("确定干部"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unplaced_reason = models.CharField(_("未安排原因"), max_length=200, blank=True)
    removed = models.BooleanField(_("已移除"), default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("方案明细")
        verbose_name_plural = _("方案明细")
        ordering = ["household__village_id", "household__group", "household_id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "household"], name="proposalline_one_per_household")
        ]

    @property
    def was_changed(self) -> bool:
        return self.removed or self.cadre_id != self.suggested_cadre_id


class HandoverQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Handovers of visible cadres, and those with a line of a household the user sees (its inbox)."""
        if is_unit_liaison(user):
            return self.filter(cadre__unit_id=user.unit_id)
        with_lines = HandoverLine.objects.visible_to(user).values("handover_id")
        return self.filter(Q(cadre__in=Cadre.objects.visible_to(user)) | Q(pk__in=with_lines))

    def pending(self):
        return self.exclude(status=Handover.Status.APPLIED)

    def waiting_for(self, user):
        """Handovers with lines the user's office has still to apply, each with `waiting` (their number)."""
        waiting = HandoverLine.objects.visible_to(user).pending()
        return (
            self.pending()
            .filter(pk__in=waiting.values("handover_id"))
            .annotate(waiting=Count("lines", filter=Q(lines__in=waiting)))
        )


class Handover(models.Model):
    """A leaving cadre's households passed to successors on one date."""

    class Status(models.TextChoices):
        DRAFT = "待审核", _("待审核")
        # Some offices applied their lines; others, whose households those are, still have to.
        PARTIAL = "部分实施", _("部分实施")
        APPLIED = "已实施", _("已实施")

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("离岗干部"), on_delete=models.PROTECT, related_name="handovers"
    )
    new_status = models.CharField(
        _("离岗原因"),
        max_length=4,
        choices=[(Cadre.Status.TRANSFERRED, _("调离")), (Cadre.Status.RETIRED, _("退休"))],
    )
    effective_on = models.DateField(_("交接日期"))
    status = models.CharField(_("状态"), max_length=4, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("实施人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("实施时间"), null=True, blank=True)

    objects = HandoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("干部交接")
        verbose_name_plural = _("干部交接")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.cadre} 交接（{self.effective_on}）"


class HandoverLineQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Lines of households the user may see: an office reads and applies only these."""
        return self.filter(household_scope_q(user, "pairing__household"))

    def pending(self):
        return self.filter(applied_at__isnull=True)


class HandoverLine(models.Model):
    """One household of a handover; applied by the office that may see the household, when it does."""

    handover = models.ForeignKey(
        Handover, verbose_name=_("交接"), on_delete=models.CASCADE, related_name="lines"
    )
    pairing = models.ForeignKey(
        Pairing, verbose_name=_("原联户关系"), on_delete=models.PROTECT, related_name="+"
    )
    successor = models.ForeignKey(
        Cadre, verbose_name=_("接任干部"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unplaced_reason = models.CharField(_("未安排原因"), max_length=200, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("实施人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("实施时间"), null=True, blank=True)

    objects = HandoverLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("交接明细")
        verbose_name_plural = _("交接明细")
        ordering = ["pairing__household__village_id", "pairing_id"]
