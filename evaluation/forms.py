from django import forms
from django.utils.translation import gettext_lazy as _

from households.models import Region
from shuanglian.lib.forms import AppForm

from .models import Round, ViolationCase


class RoundForm(AppForm):
    region = forms.ModelChoiceField(label=_("评议范围"), queryset=Region.objects.none())
    name = forms.CharField(label=_("名称"), max_length=64)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    period = forms.TypedChoiceField(label=_("期间"), choices=Round.Period.choices, coerce=int)
    starts_on = forms.DateField(label=_("收集开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("收集截止日期"), widget=forms.DateInput(attrs={"type": "date"}))
    sample_method = forms.ChoiceField(label=_("抽样方式"), choices=Round.SampleMethod.choices)
    sample_parameter = forms.IntegerField(
        label=_("抽样参数"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("每名干部抽取的户数，或每村抽取的百分比；全部抽取时不填。"),
    )
    seed = forms.IntegerField(
        label=_("随机种子"),
        required=False,
        min_value=1,
        max_value=2**53,
        help_text=_("不填则随机生成并记录。"),
    )
    weight_masses = forms.IntegerField(
        label=_("群众评议权重（%）"),
        min_value=0,
        max_value=100,
        initial=60,
        help_text=_("过程指标权重为 100 减去此数。"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.visible_to(user).filter(
            level__in=["province", "city", "county"]
        )


class PaperUploadForm(AppForm):
    file = forms.FileField(label=_("填好的纸质评议表（.xlsx）"))


class CaseForm(AppForm):
    status = forms.ChoiceField(label=_("核查状态"), choices=ViolationCase.Status.choices)
    outcome = forms.CharField(
        label=_("核查结果"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("结论为“属实”或“不属实”时必填：查实的情况和处理结果。"),
    )


class FlagCheckForm(AppForm):
    note = forms.CharField(label=_("核实说明"), required=False, max_length=200)
