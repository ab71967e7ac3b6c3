from django import forms
from django.utils.translation import gettext_lazy as _

from shuanglian.lib.forms import AppForm

from .models import TEXT_MAX


def _text(label):
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX}),
    )


class ReportTextForm(AppForm):
    """The four texts an office writes; the figures are never typed."""

    work_done = _text(_("工作开展情况"))
    experience = _text(_("经验做法"))
    problems = _text(_("存在问题"))
    next_month = _text(_("下月打算"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StepForm(AppForm):
    """A review step's text: a return's comment, a reopening's reason, an approval's remark, a 缺报 note."""

    text = forms.CharField(
        label=_("意见"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
