"""What every form on the app's own pages shares (the admin keeps Django's defaults).

Labels sit above or beside their inputs in `.field` blocks and carry no colon; errors are shown
under their field as 「标签：错误」 by the `field_errors` tag (shuanglian/templatetags/form_errors.py).
"""

from django import forms
from django.forms.formsets import (
    INITIAL_FORM_COUNT,
    MIN_NUM_FORM_COUNT,
    TOTAL_FORM_COUNT,
    ManagementForm,
)
from django.utils.translation import gettext_lazy as _


class BareLabels:
    """No colon after labels: Django's default label_suffix is an ASCII ":" (走访干部:)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AppForm(BareLabels, forms.Form):
    pass


class AppModelForm(BareLabels, forms.ModelForm):
    pass


class AmountField(forms.DecimalField):
    """A sum of money (帮扶资金, 人均纯收入) that cannot be negative. The input carries min="0", and
    the refusal says 不能为负数 under the field rather than Django's 确保该值大于或等于0。 or, past
    the form, a database constraint's name. Also usable as a ModelForm's `field_classes` entry."""

    default_error_messages = {"min_value": _("不能为负数")}

    def __init__(self, *, min_value=0, **kwargs):
        super().__init__(min_value=min_value, **kwargs)


class LineForm(AppForm):
    """One existing line of a line editor (a proposal's households, a handover's): its fields are
    named `<field>-<line pk>`, so a choice reaches the line it was made for."""

    def __init__(self, *args, line, **kwargs):
        self.line = line
        kwargs["prefix"] = str(line.pk)
        super().__init__(*args, **kwargs)

    def add_prefix(self, field_name):
        return f"{field_name}-{self.prefix}"


class LineFormSet(forms.BaseFormSet):
    """A formset of one LineForm per line the server holds, matched by the line's key rather than
    by position. The page neither adds nor removes lines, so there is no count to read from it (no
    management form): a page opened before a line was added still sets only the lines it showed.
    Make one with `forms.formset_factory(SomeLineForm, formset=LineFormSet, extra=0)`."""

    def __init__(self, data=None, *, lines, **kwargs):
        self.lines = list(lines)
        super().__init__(data, **kwargs)

    def total_form_count(self):
        return len(self.lines)

    def initial_form_count(self):
        return len(self.lines)

    @property
    def management_form(self):
        count = len(self.lines)
        values = {TOTAL_FORM_COUNT: count, INITIAL_FORM_COUNT: count, MIN_NUM_FORM_COUNT: 0}
        form = ManagementForm(
            {f"{self.prefix}-{name}": value for name, value in values.items()},
            auto_id=self.auto_id,
            prefix=self.prefix,
            renderer=self.renderer,
        )
        form.full_clean()
        return form

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "line": self.lines[index]}

    def edits(self) -> list[tuple]:
        """(line, its cleaned values) for every line, once the formset is valid."""
        return [(form.line, form.cleaned_data) for form in self.forms]
