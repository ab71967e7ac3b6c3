import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Household
from pairing.models import Cadre, VillageLink
from shuanglian.lib import dates
from shuanglian.lib.forms import AmountField, AppForm, AppModelForm
from shuanglian.lib.widgets import HtmlDateInput, LookupSelect

from .models import Visit


class VisitForm(AppModelForm):
    """The diary page as township staff copy it from paper: household first, the rest by keyboard."""

    household = forms.ModelChoiceField(
        label=_("农户"),
        queryset=Household.objects.none(),
        help_text=_("输入户主或家人的姓名、村名，或身份证号的后几位，按回车，再从列表中选定"),
        widget=LookupSelect(
            "households:lookup",
            _("输入户主姓名、村名或身份证尾号"),
            attrs={"autofocus": True},
            empty_label=_("（先在搜索框输入姓名或身份证尾号）"),
        ),
    )
    cadre = forms.ModelChoiceField(
        label=_("走访干部"),
        queryset=Cadre.objects.none(),
        required=False,
        help_text=_("不选则为该日的帮扶责任人"),
        widget=LookupSelect(
            "pairing:cadre_lookup",
            _("输入干部姓名、单位或手机尾号"),
            empty_label=_("（不选：该日的帮扶责任人）"),
        ),
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    class Meta:
        model = Visit
        # household and cadre are declared above, chosen from the user's scoped querysets: left out
        # here so the model's validation does not look each up a second time (one query each).
        fields = [
            "visited_on",
            "mode",
            *Visit.TASK_FIELDS,
            "diary",
            "help_cash",
            "help_goods",
            "help_goods_value",
            "help_project",
            "next_steps",
        ]
        # Refused under the field before the database's visit_help_not_negative would be.
        field_classes = {"help_cash": AmountField, "help_goods_value": AmountField}
        widgets = {
            "visited_on": HtmlDateInput,
            "diary": forms.Textarea(attrs={"rows": 4}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, households, cadres, village=None, **kwargs):
        """`households` and `cadres` build the scoped choosers' querysets; they are called only
        when the form is bound or a value is chosen: an empty page searches through the lookups."""
        super().__init__(*args, **kwargs)
        for name, build in (("household", households), ("cadre", cadres)):
            if self.is_bound or self.initial.get(name) or self.fields[name].initial:
                self.fields[name].queryset = build()
        self.fields["household"].label_from_instance = lambda household: household.choice_label
        if village:
            self.fields["household"].widget.params = {"village": village}
        self.fields["cadre"].label_from_instance = lambda cadre: cadre.choice_label
        # The service refuses a future day with the day in its message; the floor is told under the field.
        self.fields["visited_on"].validators += dates.campaign_date_validators(allow_future=True)
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())
            self.initial["submission_key"] = uuid.uuid4()

    def _get_validation_exclusions(self):
        # AmountField has refused a negative sum under its field already, and the database holds
        # visit_help_not_negative; the model's check of that constraint would cost a query per save.
        return super()._get_validation_exclusions() | {"help_cash", "help_goods_value"}

    @property
    def task_fields(self):
        return [self[name] for name in Visit.TASK_FIELDS]


class UnitVisitForm(AppForm):
    """A unit's day in a linked village: which link, when, who went, what was done."""

    link = forms.ModelChoiceField(
        label=_("联系村"), queryset=VillageLink.objects.none(), empty_label=_("选择联系村")
    )
    visited_on = forms.DateField(
        label=_("走访日期"),
        widget=HtmlDateInput,
        validators=dates.campaign_date_validators(allow_future=True),
    )
    cadres = forms.ModelMultipleChoiceField(
        # Checkboxes, not a Ctrl-click list: unit visits are entered on phones too (issue 16).
        label=_("参加干部"),
        queryset=Cadre.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("可勾选多人；人多时先在搜索框输入姓名或单位"),
    )
    activities = forms.CharField(label=_("工作内容"), widget=forms.Textarea(attrs={"rows": 4}))
    # Optional so that older pages and scripts still save (without the double-click guard).
    submission_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, links, cadres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["link"].queryset = links
        self.fields["link"].label_from_instance = lambda link: (
            f"{link.unit.name} → {link.village.name}" + ("" if link.is_open else f"（{link.ended_on}止）")
        )
        self.fields["cadres"].queryset = cadres
        self.fields["cadres"].label_from_instance = lambda cadre: f"{cadre.name}（{cadre.unit.name}）"
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())
            self.initial["submission_key"] = uuid.uuid4()
