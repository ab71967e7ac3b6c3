from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Household, Region
from shuanglian.access import proposes_for_villages
from shuanglian.lib import dates
from shuanglian.lib.forms import AppForm, LineForm, LineFormSet
from shuanglian.lib.widgets import HtmlDateInput, with_all_option

from .models import Cadre, Pairing


class CadreFilterForm(AppForm):
    q = forms.CharField(label=_("姓名、手机或单位"), required=False)
    rank = forms.ChoiceField(
        label=_("职级"), choices=with_all_option(Cadre.Rank.choices, _("全部职级")), required=False
    )
    category = forms.ChoiceField(
        label=_("人员类别"), choices=with_all_option(Cadre.Category.choices, _("全部类别")), required=False
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=with_all_option(Cadre.Status.choices, _("全部状态")), required=False
    )

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        queryset = queryset.search(data["q"])
        for field in ("rank", "category", "status"):
            if data[field]:
                queryset = queryset.filter(**{field: data[field]})
        return queryset


class PairForm(AppForm):
    cadre = forms.ModelChoiceField(label=_("干部"), queryset=Cadre.objects.none())
    role = forms.ChoiceField(label=_("联系类型"), choices=Pairing.Role.choices)
    started_on = forms.DateField(
        label=_("开始日期"), widget=HtmlDateInput, validators=dates.campaign_date_validators()
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].queryset = Cadre.objects.filter(pk__in=[c.pk for c in candidates])
        self.fields["cadre"].label_from_instance = lambda cadre: f"{cadre.name}（{cadre.unit.name}）"
        self.fields["started_on"].initial = timezone.localdate()


class ProposalForm(AppForm):
    region = forms.ModelChoiceField(
        label=_("范围（乡镇或村）"), queryset=Region.objects.none(), empty_label=_("选择乡镇或村")
    )
    started_on = forms.DateField(
        label=_("结对日期"), widget=HtmlDateInput, validators=dates.campaign_date_validators()
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        levels = ["township", "village"] if proposes_for_villages(user) else ["township"]
        self.fields["region"].queryset = Region.objects.visible_to(user).filter(level__in=levels)
        self.fields["started_on"].initial = timezone.localdate()


class HandoverForm(AppForm):
    new_status = forms.ChoiceField(
        label=_("离岗原因"),
        choices=[(Cadre.Status.TRANSFERRED, _("调离")), (Cadre.Status.RETIRED, _("退休"))],
    )
    effective_on = forms.DateField(
        label=_("交接日期"), widget=HtmlDateInput, validators=dates.campaign_date_validators()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].initial = timezone.localdate()


class PairHouseholdsForm(AppForm):
    """One cadre, one or more households (from the cadre page, or ticked in bulk)."""

    households = forms.ModelMultipleChoiceField(
        label=_("农户"), queryset=Household.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    cadre = forms.ModelChoiceField(label=_("干部"), queryset=Cadre.objects.none())
    role = forms.ChoiceField(label=_("联系类型"), choices=Pairing.Role.choices)
    started_on = forms.DateField(
        label=_("开始日期"), widget=HtmlDateInput, validators=dates.campaign_date_validators()
    )

    def __init__(self, *args, households, cadres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["households"].queryset = households
        self.fields["households"].label_from_instance = lambda h: (
            f"{h.head_name}（{h.village.name} {h.group}，{h.category}）"
        )
        self.fields["cadre"].queryset = cadres
        self.fields["cadre"].label_from_instance = lambda cadre: f"{cadre.name}（{cadre.unit.name}）"
        self.fields["started_on"].initial = timezone.localdate()


class CandidateField(forms.Field):
    """One of a line's candidate cadres, from a drop-down. Anything else (nothing chosen, or a cadre
    who stopped being a candidate after the page was opened) is no cadre, as the empty option says."""

    widget = forms.Select

    def __init__(self, *, empty_label, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.empty_label = empty_label
        self.candidates = {}

    def set_candidates(self, candidates) -> None:
        self.candidates = {cadre.pk: cadre for cadre in candidates}
        self.widget.choices = [("", self.empty_label)] + [
            (cadre.pk, f"{cadre.name}（{cadre.unit.name}）") for cadre in candidates
        ]

    def to_python(self, value):
        value = str(value or "")
        return self.candidates.get(int(value)) if value.isdigit() else None


class ProposalLineForm(LineForm):
    """A proposal line on the review page: the cadre the township settles on, or the line removed."""

    cadre = CandidateField(empty_label=_("（不安排）"))
    removed = forms.BooleanField(required=False)

    def __init__(self, *args, line, candidates, **kwargs):
        super().__init__(
            *args, line=line, initial={"cadre": line.cadre_id, "removed": line.removed}, **kwargs
        )
        name = line.household.head_name
        self.fields["cadre"].set_candidates(candidates.get(line.household.village_id, []))
        self.fields["cadre"].widget.attrs["aria-label"] = _("%(name)s的干部") % {"name": name}
        self.fields["removed"].widget.attrs["aria-label"] = _("移除%(name)s") % {"name": name}


class HandoverLineForm(LineForm):
    """A waiting handover line: the successor chosen for the household."""

    successor = CandidateField(empty_label=_("（未确定）"))

    def __init__(self, *args, line, candidates, **kwargs):
        super().__init__(*args, line=line, initial={"successor": line.successor_id}, **kwargs)
        household = line.pairing.household
        self.fields["successor"].set_candidates(candidates.get(household.village_id, []))
        self.fields["successor"].widget.attrs["aria-label"] = _("%(name)s的接任干部") % {
            "name": household.head_name
        }


# Candidates: {village code: [cadres]}, given as form_kwargs={"candidates": …}.
ProposalLineFormSet = forms.formset_factory(ProposalLineForm, formset=LineFormSet, extra=0)
HandoverLineFormSet = forms.formset_factory(HandoverLineForm, formset=LineFormSet, extra=0)
