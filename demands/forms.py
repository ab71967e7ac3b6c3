import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shuanglian.lib import dates
from shuanglian.lib.forms import AppForm
from shuanglian.lib.widgets import HtmlDateInput

from .models import Demand, DemandAction, Level


class DemandFilterForm(AppForm):
    """The ledger's filters; every field optional, bad values are ignored by is_valid()."""

    level = forms.ChoiceField(label=_("层级"), choices=[("", _("全部层级")), *Level.choices], required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *Demand.Status.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("类别"), choices=[("", _("全部类别")), *Demand.Category.choices], required=False
    )
    overdue = forms.BooleanField(label=_("仅逾期"), required=False)
    mine = forms.BooleanField(label=_("仅本级待办"), required=False)
    unattended = forms.BooleanField(label=_("仅无人可办理层级"), required=False)

    def filter(self, demands, user, *, skip_status=False):
        if not self.is_valid():
            return demands
        data = self.cleaned_data
        if data["level"]:
            demands = demands.filter(level=data["level"])
        if data["status"] and not skip_status:
            demands = demands.filter(status=data["status"])
        if data["category"]:
            demands = demands.filter(category=data["category"])
        if data["overdue"]:
            demands = demands.overdue()
        if data["mine"]:
            demands = demands.open().at_level_of(user)
        if data["unattended"]:
            demands = demands.unattended()
        return demands


class DemandRowForm(AppForm):
    """One demand raised during a visit: a category and what the household asked for."""

    category = forms.ChoiceField(
        label=_("诉求类别"), choices=[("", "—"), *Demand.Category.choices], required=False
    )
    text = forms.CharField(
        label=_("诉求内容"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("农户反映的问题或要求")}),
    )

    def clean(self):
        data = super().clean()
        if data.get("text") and not data.get("category"):
            self.add_error("category", _("请选择诉求类别"))
        if data.get("category") and not data.get("text"):
            self.add_error("text", _("请填写诉求内容"))
        return data


DemandRowFormSet = forms.formset_factory(DemandRowForm, extra=2, max_num=10)


def demand_rows(formset) -> list[dict]:
    """The filled rows of a valid formset (blank rows are left out)."""
    return [row for row in (form.cleaned_data for form in formset.forms) if row.get("text")]


class RaiseDemandForm(AppForm):
    """A demand taken outside a visit (a call to the township, a liaison's own visit), on the
    household page."""

    category = forms.ChoiceField(
        label=_("诉求类别"),
        choices=[("", "—"), *Demand.Category.choices],
        error_messages={"required": _("请选择诉求类别"), "invalid_choice": _("请选择有效的诉求类别")},
    )
    raised_on = forms.DateField(
        label=_("提出日期"),
        widget=HtmlDateInput,
        error_messages={"required": _("请填写提出日期"), "invalid": _("请按 年-月-日 填写提出日期")},
        validators=dates.campaign_date_validators(allow_future=True),  # clean_raised_on names a future day
    )
    text = forms.CharField(
        label=_("诉求内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写诉求内容"), "max_length": _("诉求内容最多 %(limit_value)d 字")},
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("raised_on", timezone.localdate())
            self.initial["submission_key"] = uuid.uuid4()

    def clean_raised_on(self):
        day = self.cleaned_data["raised_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("提出日期 %(day)s 晚于今天") % {"day": day})
        return day


class ActionForm(AppForm):
    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in DemandAction.Kind.choices if k != "提出"],
        widget=forms.HiddenInput,
    )
    text = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # The last action the page showed: a second press finds a newer one and does not act twice.
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


# What the text box is called for each action on the demand page.
ACTION_PROMPTS = {
    DemandAction.Kind.ACCEPT: _("受理意见（可不填）"),
    DemandAction.Kind.REPLY: _("答复内容"),
    DemandAction.Kind.ESCALATE: _("上报理由"),
    DemandAction.Kind.RESOLVE: _("办理结果（做了什么）"),
    DemandAction.Kind.EXPLAIN: _("解释理由（为何不能办理）"),
    DemandAction.Kind.FEEDBACK: _("向农户反馈的内容"),
}
