from django import forms
from django.utils.translation import gettext_lazy as _

from shuanglian.lib import idcard, params
from shuanglian.lib.forms import AmountField, AppForm, BareLabels
from shuanglian.lib.versions import VersionedModelForm
from shuanglian.lib.widgets import LookupSelect, with_all_option

from . import floors
from .choices import Category, HouseholdStatus, PovertyCause
from .models import Household, Region


class HouseholdFilterForm(AppForm):
    q = forms.CharField(label=_("姓名或身份证号后几位"), required=False)
    village = forms.ModelChoiceField(label=_("村"), queryset=Region.objects.none(), required=False)
    region = forms.CharField(required=False, widget=forms.HiddenInput)
    category = forms.ChoiceField(
        label=_("户属性"), choices=with_all_option(Category.choices, _("全部户属性")), required=False
    )
    cause = forms.ChoiceField(
        label=_("致贫原因"), choices=with_all_option(PovertyCause.choices, _("全部致贫原因")), required=False
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=with_all_option(HouseholdStatus.choices, _("全部状态")), required=False
    )
    working_away = forms.BooleanField(label=_("外出务工"), required=False)
    floor_alert = forms.BooleanField(label=_("有底线预警"), required=False)

    # Above this many villages a drop-down is useless; the region drill-down narrows instead.
    MAX_VILLAGE_CHOICES = 400

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        villages = Region.objects.visible_to(user).villages()
        region = params.parse_code(self.data.get("region"))  # read before is_valid(): parse it here
        if region:
            villages = villages.within(region)
        self.fields["village"].queryset = villages
        self.show_villages = villages[: self.MAX_VILLAGE_CHOICES + 1].count() <= self.MAX_VILLAGE_CHOICES

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.search(data["q"])
        if data["village"]:
            queryset = queryset.filter(village=data["village"])
        region = params.parse_code(data["region"])
        if region:
            queryset = queryset.filter(village__code__startswith=region)
        if data["category"]:
            queryset = queryset.filter(category=data["category"])
        if data["cause"]:
            queryset = queryset.filter(main_cause=data["cause"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["working_away"]:
            queryset = queryset.working_away()
        if data["floor_alert"]:
            queryset = floors.with_alerts(queryset)
        return queryset


def refuse_main_cause_again(form, cleaned: dict) -> None:
    """其他致贫原因 must not repeat the main cause, or the detail page reads 「缺技术（其他：缺技术）」
    (issue 16). Shared by the page's form and the admin's."""
    main_cause = cleaned.get("main_cause")
    if main_cause and main_cause in (cleaned.get("other_causes") or []):
        form.add_error(
            "other_causes",
            _("「%(cause)s」已是主要致贫原因，不要再选") % {"cause": PovertyCause(main_cause).label},
        )


class HouseholdForm(BareLabels, VersionedModelForm):
    """The household's profile; members are edited one by one, the head's ID identifies it.

    It carries the version it was opened on: a save over someone else's newer one is refused;
    a second press of the same form, finding its values saved, lands on the household."""

    replays_land = True

    other_causes = forms.MultipleChoiceField(
        label=_("其他致贫原因"),
        choices=PovertyCause.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Household
        fields = [
            "village",
            "group",
            "category",
            "main_cause",
            "other_causes",
            "income_per_head",
            "housing",
            "phone",
            "status",
            "working_away",
            "working_away_place",
            "working_away_since",
        ]
        field_classes = {"income_per_head": AmountField}  # the roster import refuses a negative income too
        widgets = {
            "working_away_since": forms.DateInput(attrs={"type": "date"}),
            # A province holds ~17,000 villages: one <select> of them all was a 1 MB page (issue 19).
            "village": LookupSelect("households:village_lookup", _("输入村名或乡镇名查找")),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The lookup only offers; this scoped queryset decides what may be saved.
        self.fields["village"].queryset = Region.objects.visible_to(user).villages().select_related("parent")
        self.fields["village"].label_from_instance = lambda village: village.choice_label
        # Django's blank choice reads 「---------」: say what an empty choice means instead.
        for name, blank in (
            ("category", _("（请选择）")),
            ("main_cause", _("（未填）")),
            ("housing", _("（未填）")),
        ):
            field = self.fields[name]
            field.choices = [("", blank), *[(value, label) for value, label in field.choices if value != ""]]

    def clean_phone(self):
        phone = idcard.normalize(self.cleaned_data["phone"])
        if phone and not phone.isdigit():
            raise forms.ValidationError(_("联系电话只能包含数字"))
        return phone

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("working_away") and not cleaned.get("working_away_place"):
            self.add_error("working_away_place", _("外出务工户请填写务工地点"))
        refuse_main_cause_again(self, cleaned)
        if not cleaned.get("working_away"):
            # Back home: where and since when no longer apply.
            cleaned["working_away_place"] = ""
            cleaned["working_away_since"] = None
        return cleaned
