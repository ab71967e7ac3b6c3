from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Region
from pairing.models import Cadre, Unit
from plans.models import HouseholdPlan, VillagePlan
from shuanglian.access import OFFICE_ROLES, scope_prefix
from shuanglian.lib.forms import AppForm
from visits.models import Visit

from .models import TypicalCase

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InspectionForm(AppForm):
    name = forms.CharField(label=_("名称"), max_length=64)
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("结束日期"), widget=DATE)
    checks = forms.CharField(
        label=_("检查内容"),
        widget=forms.Textarea(attrs={"rows": 2}),
        initial=_("听取汇报、电话回访、现场督查、检查民情日记"),
    )
    townships = forms.ModelMultipleChoiceField(
        label=_("督查乡镇"), queryset=Region.objects.none(), required=False
    )
    units = forms.ModelMultipleChoiceField(label=_("督查单位"), queryset=Unit.objects.none(), required=False)
    team = forms.ModelMultipleChoiceField(
        label=_("督查组成员"), queryset=get_user_model().objects.none(), required=False
    )
    visits_from = forms.DateField(label=_("抽查走访起始日期"), widget=DATE)
    visits_to = forms.DateField(label=_("抽查走访截止日期"), widget=DATE)
    per_cadre = forms.IntegerField(label=_("每名干部抽查条数"), min_value=1, max_value=20, initial=2)
    seed = forms.IntegerField(
        label=_("随机种子"), required=False, min_value=1, help_text=_("不填则随机生成并记录")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["starts_on"].initial = today
        self.fields["ends_on"].initial = today
        self.fields["visits_to"].initial = today
        self.fields["visits_from"].initial = today.replace(day=1)
        self.fields["townships"].queryset = (
            Region.objects.visible_to(user).filter(level=Region.Level.TOWNSHIP).order_by("code")
        )
        self.fields["units"].queryset = Unit.objects.visible_to(user).order_by("name")
        prefix = scope_prefix(user)
        self.fields["team"].queryset = (
            get_user_model()
            .objects.filter(
                region__code__startswith=prefix or "-",
                role__in=OFFICE_ROLES,
                is_active=True,
            )
            .order_by("username")
        )


class FindingForm(AppForm):
    text = forms.CharField(label=_("问题"), widget=forms.Textarea(attrs={"rows": 2}))
    township = forms.ModelChoiceField(label=_("责任乡镇"), queryset=Region.objects.none(), required=False)
    unit = forms.ModelChoiceField(label=_("责任单位"), queryset=Unit.objects.none(), required=False)
    requirement = forms.CharField(label=_("整改要求"), max_length=300)
    due_on = forms.DateField(label=_("整改期限"), widget=DATE)

    def __init__(self, *args, inspection, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = inspection.townships.all()
        self.fields["unit"].queryset = inspection.units.all()

    def clean(self):
        data = super().clean()
        if bool(data.get("township")) == bool(data.get("unit")):
            raise forms.ValidationError(_("请选择一个责任乡镇或一个责任单位。"))
        return data


class CaseForm(AppForm):
    kind = forms.ChoiceField(label=_("类型"), choices=TypicalCase.Kind.choices)
    subject_id = forms.IntegerField(
        label=_("编号"),
        min_value=1,
        help_text=_("走访记录、户计划、村计划、干部或单位的编号（见其页面地址）"),
    )
    title = forms.CharField(label=_("标题"), max_length=100)
    write_up = forms.CharField(label=_("典型材料"), widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        kind, pk = data.get("kind"), data.pop("subject_id", None)
        if not kind or not pk:
            return data
        source = {
            TypicalCase.Kind.DIARY: Visit.objects,
            TypicalCase.Kind.HOUSEHOLD_PLAN: HouseholdPlan.objects,
            TypicalCase.Kind.VILLAGE_PLAN: VillagePlan.objects,
            TypicalCase.Kind.CADRE: Cadre.objects,
            TypicalCase.Kind.UNIT: Unit.objects,
        }[kind]
        subject = source.visible_to(self.user).filter(pk=pk).first()
        if subject is None:
            self.add_error(
                "subject_id",
                _("在您的管辖范围内没有编号为 %(pk)s 的%(kind)s")
                % {"pk": pk, "kind": TypicalCase.Kind(kind).label},
            )
        data["subject"] = subject
        return data
