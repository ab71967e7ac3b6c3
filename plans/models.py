"""Help plans: one per linked poor village and year, one per household and year.

Plans keep their versions: every save writes a version row holding the whole
plan as it was saved, the fields that changed, who saved it and when.
A household plan belongs to the household, not to a cadre, so it survives a handover.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from households.choices import PovertyCause
from households.models import Household, Region
from shuanglian.access import is_unit_liaison, region_q
from shuanglian.lib.history import Tracked
from shuanglian.lib.versions import Versioned


class Measure(models.TextChoices):
    """帮扶措施"""

    INDUSTRY = "产业", _("产业扶持")
    LABOUR = "务工", _("劳务输出")
    EDUCATION = "教育", _("教育扶贫")
    MEDICAL = "医疗", _("医疗救助")
    DIBAO = "低保兜底", _("低保兜底")
    HOUSING = "危房改造", _("危房改造")
    RELOCATION = "易地搬迁", _("易地扶贫搬迁")
    CREDIT = "小额信贷", _("精准扶贫专项贷款")
    TRAINING = "技能培训", _("技能培训")
    INFRASTRUCTURE = "基础设施", _("基础设施")


class PlanBase(Versioned):
    year = models.PositiveSmallIntegerField(_("年度"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("最后修改人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("最后修改时间"), auto_now=True)

    class Meta:
        abstract = True

    # The fields a version snapshots (and the history compares), in page order.
    TRACKED_FIELDS: tuple = ()
    # Tracked lists of choices, whose order means nothing (ticked boxes): field → the choices in page order.
    CHOICE_LISTS: dict = {}

    def snapshot(self) -> dict:
        values = {
            name: _jsonable(self._meta.get_field(name), getattr(self, name)) for name in self.TRACKED_FIELDS
        }
        for name, order in self.CHOICE_LISTS.items():
            # In page order, as the form sends them: the same boxes stored in another order are no change.
            values[name] = sorted(
                values[name], key=lambda value: order.index(value) if value in order else len(order)
            )
        return values


def _jsonable(field, value):
    """A JSON value that compares equal whether it came from a form or from the database."""
    if value is None or isinstance(value, (str, int, bool, list, dict)):
        return value
    if isinstance(field, models.DecimalField):
        value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    return str(value)


class VillagePlanQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(village__in=Region.objects.linked_to_unit(user.unit_id))
        return self.filter(region_q(user, "village__code"))


class VillagePlan(PlanBase):
    """One development path, one plan, for a linked poor village and a year."""

    village = models.ForeignKey(
        Region, verbose_name=_("贫困村"), on_delete=models.PROTECT, related_name="village_plans"
    )
    development_path = models.TextField(_("发展思路"))
    leading_industry = models.CharField(_("主导产业"), max_length=100)
    # [{"name": "...", "funds": "120000.00"}, ...]: a short list edited as one block, never queried inside.
    projects = models.JSONField(_("项目及资金"), default=list, blank=True)

    objects = VillagePlanQuerySet.as_manager()
    history = Tracked()

    TRACKED_FIELDS = ("development_path", "leading_industry", "projects")

    class Meta:
        verbose_name = _("村帮扶计划")
        verbose_name_plural = _("村帮扶计划")
        ordering = ["-year", "village_id"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year"], name="villageplan_one_per_village_year")
        ]

    def __str__(self):
        return f"{self.village} {self.year}年帮扶计划"

    @property
    def total_funds(self):
        return sum((Decimal(project["funds"]) for project in self.projects), Decimal(0))


class HouseholdPlanQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_unit_liaison(user):
            return self.filter(household__in=Household.objects.visible_to(user))
        return self.filter(region_q(user, "household__village__code"))


class HouseholdPlan(PlanBase):
    """Cause → measures → targets → outcome, with this year's income against last year's."""

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="plans"
    )
    causes = models.JSONField(_("致贫原因"), default=list, blank=True)
    measures = models.JSONField(_("帮扶措施"), default=list)
    targets = models.TextField(_("帮扶目标"))
    outcome = models.TextField(_("帮扶成效"), blank=True)
    income_last_year = models.DecimalField(
        _("上年人均纯收入（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    income_this_year = models.DecimalField(
        _("本年人均纯收入（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    objects = HouseholdPlanQuerySet.as_manager()
    history = Tracked()

    TRACKED_FIELDS = ("causes", "measures", "targets", "outcome", "income_last_year", "income_this_year")
    CHOICE_LISTS = {"causes": PovertyCause.values, "measures": Measure.values}
    CAUSE_CHOICES = PovertyCause.choices

    class Meta:
        verbose_name = _("户帮扶计划")
        verbose_name_plural = _("户帮扶计划")
        ordering = ["-year", "household_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "year"], name="householdplan_one_per_household_year"
            ),
            models.CheckConstraint(
                name="householdplan_income_not_negative",
                condition=models.Q(income_last_year__gte=0) | models.Q(income_last_year__isnull=True),
                violation_error_message=_("上年人均纯收入不能为负数"),
            ),
            models.CheckConstraint(
                name="householdplan_income_this_year_not_negative",
                condition=models.Q(income_this_year__gte=0) | models.Q(income_this_year__isnull=True),
                violation_error_message=_("本年人均纯收入不能为负数"),
            ),
        ]

    def __str__(self):
        return f"{self.household} {self.year}年帮扶计划"

    @property
    def income_change(self):
        if self.income_last_year is None or self.income_this_year is None:
            return None
        return self.income_this_year - self.income_last_year

    @property
    def measure_labels(self) -> list[str]:
        return [str(Measure(value).label) for value in self.measures if value in Measure.values]


class PlanVersionBase(models.Model):
    number = models.PositiveIntegerField(_("版本号"))
    data = models.JSONField(_("内容"))
    changed_fields = models.JSONField(_("修改的项目"), default=list)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修改人"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("修改时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-number"]

    def __str__(self):
        return f"第 {self.number} 版"

    @property
    def changed_labels(self) -> list[str]:
        model = self._meta.get_field("plan").related_model
        return [str(model._meta.get_field(name).verbose_name) for name in self.changed_fields]


class VillagePlanVersion(PlanVersionBase):
    plan = models.ForeignKey(
        VillagePlan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="versions"
    )

    class Meta(PlanVersionBase.Meta):
        verbose_name = _("村帮扶计划版本")
        verbose_name_plural = _("村帮扶计划版本")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="villageplanversion_unique_number")
        ]


class HouseholdPlanVersion(PlanVersionBase):
    plan = models.ForeignKey(
        HouseholdPlan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="versions"
    )

    class Meta(PlanVersionBase.Meta):
        verbose_name = _("户帮扶计划版本")
        verbose_name_plural = _("户帮扶计划版本")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="householdplanversion_unique_number")
        ]
