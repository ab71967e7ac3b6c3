from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shuanglian.access import LEVEL_DIGITS, is_unit_liaison, region_q, scope_prefix
from shuanglian.indicators import Scope
from shuanglian.lib import idcard
from shuanglian.lib.codes import prefix_range_q
from shuanglian.lib.history import Tracked
from shuanglian.lib.versions import Versioned

from .choices import (
    ETHNICITY_CHOICES,
    POOR_CATEGORIES,
    Category,
    Disability,
    Education,
    Health,
    HouseholdStatus,
    Housing,
    Labour,
    PovertyCause,
    Relation,
    Schooling,
    Sex,
)


def linked_village_codes(unit_id):
    """The codes of the villages a unit links now, straight from pairing.VillageLink (reached through
    Region's reverse relation, so this lower layer does not import pairing). One flat subquery: a
    join back to regions let PostgreSQL, with stale statistics, nest loops for minutes."""
    village_link = Region._meta.get_field("village_links").related_model
    return village_link.objects.filter(unit_id=unit_id, ended_on__isnull=True).values("village_id")


class RegionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Regions inside the user's scope; a unit liaison sees the villages its unit links."""
        if is_unit_liaison(user):
            return self.linked_to_unit(user.unit_id)
        return self.filter(region_q(user, "code"))

    def in_scope(self, scope: Scope):
        """Regions of an indicator scope (shuanglian.indicators.Scope), by the rule of visible_to."""
        if scope.is_unit:
            return self.linked_to_unit(scope.unit_id)
        return self.filter(code__startswith=scope.prefix) if scope.prefix else self

    def linked_to_unit(self, unit_id):
        """Villages the unit links now."""
        return self.filter(code__in=linked_village_codes(unit_id))

    def within(self, code_prefix: str):
        return self.filter(code__startswith=code_prefix)

    def villages(self):
        return self.filter(level=Region.Level.VILLAGE)


class Region(models.Model):
    """A division of the official tree, keyed by its 12-digit statistical code.

    Using the code as the primary key lets every row that points at a village
    be scoped to a township, county or city by a prefix of its own foreign key,
    with no join and no recursion.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市（州）")
        COUNTY = "county", _("县（市、区）")
        TOWNSHIP = "township", _("乡（镇、街道）")
        VILLAGE = "village", _("村（社区）")

    code = models.CharField(_("统计用区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_poor = models.BooleanField(
        _("贫困县/贫困村"),
        default=False,
        help_text=_("县级：国家或省列贫困县；村级：建档立卡贫困村。"),
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="region_level_code")]

    def __str__(self):
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: LEVEL_DIGITS[self.level]]

    @property
    def choice_label(self) -> str:
        """How choosers name a village: village names repeat, so the township follows
        (select_related("parent"))."""
        return f"{self.name}（{self.parent.name}）" if self.parent_id else self.name

    @property
    def child_level(self) -> str | None:
        levels = list(LEVEL_DIGITS)
        index = levels.index(self.level)
        return levels[index + 1] if index + 1 < len(levels) else None

    def ancestors(self):
        """Province down to the parent, in one query."""
        codes = [
            self.code[:digits].ljust(12, "0")
            for level, digits in LEVEL_DIGITS.items()
            if digits < LEVEL_DIGITS[self.level]
        ]
        return list(Region.objects.filter(code__in=codes).order_by("code"))

    def breadcrumbs(self, user) -> list[tuple["Region", bool]]:
        """ancestors(), each with whether the user may open it: a township office sees its
        county and city named above it, but only its own scope is a link (the rest would 404)."""
        prefix = scope_prefix(user)
        return [
            (region, prefix is not None and region.code.startswith(prefix)) for region in self.ancestors()
        ]


# Poor households on the register (在册): the poor the campaign pairs and the figures count;
# 已脱贫, 迁出 and 销户 households are left out.
POOR_ON_REGISTER = Q(category__in=POOR_CATEGORIES, status=HouseholdStatus.REGISTERED)


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Households in the user's region; for a unit liaison, those in its linked
        villages or paired with its cadres."""
        if is_unit_liaison(user):
            return self.in_scope(Scope(unit_id=user.unit_id))
        # The range beside the LIKE: the household list is ordered by village, and with the LIKE
        # alone PostgreSQL walked household_village_status from the province's first village,
        # filtering, until the township's rows came (issue 18). Visits and pairings scope through
        # the LIKE alone: its small estimate is what starts their township pages from the households.
        return self.filter(region_q(user, "village__code"), prefix_range_q("village_id", scope_prefix(user)))

    def in_scope(self, scope: Scope):
        """Households of an indicator scope (shuanglian.indicators.Scope), by the rule of visible_to."""
        if scope.is_unit:
            linked_villages = linked_village_codes(scope.unit_id)
            paired = Household.objects.filter(
                pairings__cadre__unit_id=scope.unit_id, pairings__ended_on__isnull=True
            ).values("pk")
            return self.filter(Q(village_id__in=linked_villages) | Q(pk__in=paired))
        if not scope.prefix:
            return self
        return self.filter(
            Q(village__code__startswith=scope.prefix), prefix_range_q("village_id", scope.prefix)
        )

    def poor(self):
        return self.filter(category__in=POOR_CATEGORIES)

    def on_register(self):
        return self.filter(status=HouseholdStatus.REGISTERED)

    def poor_on_register(self):
        return self.filter(POOR_ON_REGISTER)

    def working_away(self):
        return self.filter(working_away=True)

    def search(self, text: str, *, villages: bool = False):
        """By head or member name, or by the trailing digits of any member's ID
        (and by village name when `villages`, as the visit chooser wants)."""
        text = idcard.normalize(text)
        if not text:
            return self
        if text[:-1].isdigit() or text.isdigit():
            members = Member.objects.filter(household_id=OuterRef("pk"), id_number__endswith=text)
            return self.filter(Q(head_id_number__endswith=text) | Exists(members))
        members = Member.objects.filter(household_id=OuterRef("pk"), name__contains=text)
        by_name = Q(head_name__contains=text) | Exists(members)
        return self.filter(by_name | Q(village__name__contains=text) if villages else by_name)


class Household(Versioned):
    """A household on the register, identified by its head's resident ID."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("所在村"),
        on_delete=models.PROTECT,
        db_index=False,  # household_village_category leads with village and serves the same look-ups
        related_name="households",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    group = models.CharField(_("社（组）"), max_length=32, blank=True)
    head_name = models.CharField(_("户主姓名"), max_length=32)
    # Unique through Meta.constraints, not unique=True: on PostgreSQL unique=True adds a second,
    # varchar_pattern_ops "_like" index that only LIKE 'x%' could use, and nothing searches IDs that way.
    head_id_number = models.CharField(_("户主身份证号码"), max_length=18)
    category = models.CharField(_("户属性"), max_length=8, choices=Category.choices)
    main_cause = models.CharField(_("主要致贫原因"), max_length=12, choices=PovertyCause.choices, blank=True)
    other_causes = models.JSONField(_("其他致贫原因"), default=list, blank=True)
    income_per_head = models.DecimalField(
        _("人均纯收入（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    housing = models.CharField(_("住房情况"), max_length=8, choices=Housing.choices, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=4, choices=HouseholdStatus.choices, default=HouseholdStatus.REGISTERED
    )
    # 外出务工: such households are reached by phone, SMS, letter or contact card rather than at home.
    working_away = models.BooleanField(_("外出务工"), default=False)
    working_away_place = models.CharField(
        _("务工地点"), max_length=64, blank=True, help_text=_("省、市，如：新疆乌鲁木齐市")
    )
    working_away_since = models.DateField(_("外出时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("农户")
        verbose_name_plural = _("农户")
        ordering = ["village_id", "group", "head_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["head_id_number"], name="household_head_id_number_unique")
        ]
        indexes = [
            models.Index(fields=["village", "category"], name="household_village_category"),
            models.Index(fields=["village", "status"], name="household_village_status"),
            # Township, county and city scopes are `village_id LIKE 'prefix%'`; under any collation but
            # C only a pattern_ops index serves that (README, "Scopes and indexes").
            models.Index(
                fields=["village"], name="household_village_like", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return f"{self.head_name}户"

    @property
    def choice_label(self) -> str:
        """How choosers name a household: people share names, so the village and ID tail tell them apart."""
        place = f"{self.village.name} {self.group}" if self.group else self.village.name
        return f"{self.head_name}（{place}，尾号{self.head_id_number[-4:]}）"

    @property
    def is_poor(self) -> bool:
        return self.category in POOR_CATEGORIES

    @property
    def township_code(self) -> str:
        return self.village_id[:9].ljust(12, "0")


class MemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(household__in=Household.objects.visible_to(user))


class Member(Versioned):
    """A person in a household; the head is a member too, so size = member count."""

    household = models.ForeignKey(
        Household, verbose_name=_("所属农户"), on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=32)
    id_number = models.CharField(_("身份证号码"), max_length=18)  # unique: see Meta.constraints
    relation = models.CharField(_("与户主关系"), max_length=8, choices=Relation.choices)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    ethnicity = models.CharField(_("民族"), max_length=8, choices=ETHNICITY_CHOICES, default="汉族")
    education = models.CharField(_("文化程度"), max_length=8, choices=Education.choices, blank=True)
    schooling = models.CharField(
        _("在校生状况"), max_length=8, choices=Schooling.choices, default=Schooling.NOT_ENROLLED
    )
    health = models.CharField(_("健康状况"), max_length=8, choices=Health.choices, default=Health.HEALTHY)
    disability = models.CharField(_("残疾类别"), max_length=8, choices=Disability.choices, blank=True)
    labour = models.CharField(_("劳动能力"), max_length=8, choices=Labour.choices, blank=True)
    has_medical_insurance = models.BooleanField(_("参加新农合"), default=True)
    has_pension_insurance = models.BooleanField(_("参加养老保险"), default=False)

    objects = MemberQuerySet.as_manager()
    history = Tracked()

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "birth_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["id_number"], name="member_id_number_unique"),
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="户主"), name="member_one_head_per_household"
            ),
        ]
        # The three-floor filter (households/floors.py) asks "has a member who…" of every household
        # in scope; these small partial indexes hold only the members who could break a floor
        # (province list with the filter: 1.2 s → 0.4 s, 1.2M members, PostgreSQL 15).
        indexes = [
            models.Index(
                fields=["household"],
                name="member_ill_uninsured",
                condition=Q(health__in=[Health.SERIOUS, Health.CHRONIC], has_medical_insurance=False),
            ),
            models.Index(
                fields=["birth_date", "household"],
                name="member_out_of_school",
                condition=Q(schooling__in=[Schooling.NOT_ENROLLED, Schooling.DROPPED_OUT]),
            ),
        ]

    def __str__(self):
        return self.name

    def set_id_number(self, raw: str) -> None:
        """Store a normalised ID with the sex and birth date it encodes (raises ValidationError)."""
        parsed = idcard.parse(raw)
        self.id_number = parsed.number
        self.sex = parsed.sex
        self.birth_date = parsed.birth_date


class RevealLog(models.Model):
    """One 显示完整: who saw which whole resident ID or phone, of whom, when (households.reveal).

    The object is named by its model label and id, not a foreign key, so that households and
    cadres (a higher app) share the log and a row outlives what it names; `subject` keeps the
    name shown at the time."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(_("对象类型"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    subject = models.CharField(_("对象"), max_length=64)
    field = models.CharField(_("查看的信息"), max_length=40)
    at = models.DateTimeField(_("查看时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("完整信息查看记录")
        verbose_name_plural = _("完整信息查看记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="reveallog_object")]

    def __str__(self):
        return f"{self.user} {self.subject} {self.field}"
