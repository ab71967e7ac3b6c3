"""Forms of the bulletins (通报) and the annual summary (年总结)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shuanglian.lib.forms import AppForm, AppModelForm

from .models import AnnualSummary, Bulletin


class BulletinForm(AppModelForm):
    """The office's edits of a draft; `version` is the one the page was opened on."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Bulletin
        fields = ["title", "opening", "experiences", "problems", "requirements"]
        widgets = {
            "opening": forms.Textarea(attrs={"rows": 4}),
            "experiences": forms.Textarea(attrs={"rows": 8}),
            "problems": forms.Textarea(attrs={"rows": 6}),
            "requirements": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version


class IssueForm(AppForm):
    number = forms.CharField(
        label=_("文号"), max_length=40, help_text=_("如：通双联办〔2026〕3号；同一单位的文号不能重复")
    )


class AnnualSummaryForm(AppModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = AnnualSummary
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version if self.instance.pk else 0
