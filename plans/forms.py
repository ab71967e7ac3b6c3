import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from households.choices import PovertyCause
from shuanglian.lib.forms import AmountField, AppForm
from shuanglian.lib.versions import MISSING_MESSAGE, StaleVersion, VersionField

from .models import HouseholdPlan, Measure, VillagePlan

# "项目名称，资金" per line; a Chinese or Latin comma, a tab or a bar separates them.
_PROJECT_SEPARATOR = re.compile(r"[，,\t|]")


def projects_to_text(projects: list[dict]) -> str:
    return "\n".join(f"{project['name']}，{project['funds']}" for project in projects)


class PlanForm(AppForm):
    # The version the form was opened on (0: no plan yet), required; the service compares it.
    version = VersionField()

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["version"] = plan.version if plan is not None else 0
        if plan is not None and not self.is_bound:
            self.initial.update(self.initial_from(plan))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("version") is None:
            raise StaleVersion(MISSING_MESSAGE, code="missing")
        return cleaned

    def plan_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class VillagePlanForm(PlanForm):
    development_path = forms.CharField(
        label=VillagePlan._meta.get_field("development_path").verbose_name,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    leading_industry = forms.CharField(
        label=VillagePlan._meta.get_field("leading_industry").verbose_name, max_length=100
    )
    projects = forms.CharField(
        label=_("项目及资金"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "每行一个项目：项目名称，资金（元）\n如：梯田改造，200000"}
        ),
        help_text=_("每行一个项目：项目名称，资金（元）"),
    )

    @staticmethod
    def initial_from(plan):
        return {
            "development_path": plan.development_path,
            "leading_industry": plan.leading_industry,
            "projects": projects_to_text(plan.projects),
        }

    def clean_projects(self):
        projects, errors = [], []
        for number, line in enumerate(self.cleaned_data["projects"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in _PROJECT_SEPARATOR.split(line)]
            if len(parts) != 2 or not parts[0]:
                errors.append(_("项目及资金第 %(n)s 行应为“项目名称，资金”") % {"n": number})
                continue
            try:
                funds = Decimal(parts[1].replace("元", ""))
            except InvalidOperation:
                errors.append(
                    _("项目及资金第 %(n)s 行的资金“%(funds)s”不是数字") % {"n": number, "funds": parts[1]}
                )
                continue
            if (
                not funds.is_finite()
                or funds < 0
                or funds.as_tuple().exponent < -2
                or funds >= Decimal("1e10")
            ):
                errors.append(_("项目及资金第 %(n)s 行的资金应为不小于0、最多两位小数的金额") % {"n": number})
                continue
            projects.append({"name": parts[0][:100], "funds": str(funds.quantize(Decimal("0.01")))})
        if errors:
            raise forms.ValidationError(errors)
        return projects


class HouseholdPlanForm(PlanForm):
    causes = forms.MultipleChoiceField(
        label=_("致贫原因"), choices=PovertyCause.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    measures = forms.MultipleChoiceField(
        label=_("帮扶措施"),
        choices=Measure.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一项帮扶措施")},
    )
    targets = forms.CharField(label=_("帮扶目标"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("帮扶成效"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    income_last_year = AmountField(
        label=_("上年人均纯收入（元）"), required=False, max_digits=10, decimal_places=2
    )
    income_this_year = AmountField(
        label=_("本年人均纯收入（元）"), required=False, max_digits=10, decimal_places=2
    )

    @staticmethod
    def initial_from(plan: HouseholdPlan):
        return {name: getattr(plan, name) for name in HouseholdPlan.TRACKED_FIELDS}

    @classmethod
    def for_new_plan(cls, household, *args, **kwargs):
        """A new plan starts from the household's recorded causes and income."""
        form = cls(*args, **kwargs)
        if not form.is_bound:
            form.initial.update(
                {
                    "causes": [c for c in [household.main_cause, *household.other_causes] if c],
                    "income_last_year": household.income_per_head,
                }
            )
        return form
