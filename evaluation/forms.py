import re

from django import forms
from django.utils.translation import gettext_lazy as _

from households.models import Region
from shuanglian.lib.forms import AppForm

from .models import Question, Round, ViolationCase


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


CHOICE_LINE = re.compile(r"^(?P<label>.+?)(?:\s*[=＝:：\s]\s*(?P<score>-?\d{1,3}))?$")


class QuestionForm(AppForm):
    """One questionnaire item; choices one per line, a score after the label when it counts."""

    text = forms.CharField(label=_("题目"), max_length=200)
    kind = forms.ChoiceField(label=_("题型"), choices=Question.Kind.choices)
    choices_text = forms.CharField(
        label=_("选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("每行一个选项；计分的在后面写分数，如“满意 100”；不写分数的不计入平均（如“不了解”）。"),
    )
    scored = forms.BooleanField(label=_("计入群众评议得分"), required=False)
    weight = forms.IntegerField(label=_("权重"), min_value=1, max_value=100, initial=1)
    required = forms.BooleanField(label=_("必答"), required=False)
    allow_text = forms.BooleanField(label=_("可填写文字说明"), required=False)

    def __init__(self, *args, locked_kind=False, **kwargs):
        super().__init__(*args, **kwargs)
        if locked_kind:
            self.fields["kind"].disabled = True

    def clean_choices_text(self):
        choices, seen = [], set()
        for number, line in enumerate(self.cleaned_data["choices_text"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            match = CHOICE_LINE.match(line)
            label, score = match["label"].strip(), match["score"]
            if len(label) > 32 or re.search(r"[,，\"]", label):
                raise forms.ValidationError(
                    _("第%(n)s行“%(v)s”：选项不超过32个字，且不能含逗号或引号。") % {"n": number, "v": label}
                )
            if label in seen:
                raise forms.ValidationError(_("第%(n)s行“%(v)s”：选项重复。") % {"n": number, "v": label})
            if score is not None and not 0 <= int(score) <= 100:
                raise forms.ValidationError(_("第%(n)s行：分数须在0到100之间。") % {"n": number})
            seen.add(label)
            choices.append({"value": label, "score": None if score is None else int(score)})
        return choices

    def clean(self):
        data = super().clean()
        kind, choices = data.get("kind"), data.get("choices_text")
        if kind is None or choices is None:
            return data
        if kind == Question.Kind.TEXT:
            data["choices_text"] = []
            data["scored"] = False
        elif len(choices) < 2:
            self.add_error("choices_text", _("选择题至少要有两个选项。"))
        elif data.get("scored") and not any(c["score"] is not None for c in choices):
            self.add_error("choices_text", _("计分题至少要有一个选项写明分数。"))
        if kind == Question.Kind.MULTIPLE and data.get("scored"):
            self.add_error("scored", _("多选题不计分。"))
        return data

    @staticmethod
    def initial_of(question) -> dict:
        lines = [c["value"] + ("" if c.get("score") is None else f" {c['score']}") for c in question.choices]
        return {
            "text": question.text,
            "kind": question.kind,
            "choices_text": "\n".join(lines),
            "scored": question.scored,
            "weight": question.weight,
            "required": question.required,
            "allow_text": question.allow_text,
        }
