"""What every form on the app's own pages shares (the admin keeps Django's defaults).

Labels sit above or beside their inputs in `.field` blocks and carry no colon; errors are shown
under their field as 「标签：错误」 by the `field_errors` tag (shuanglian/templatetags/form_errors.py).
"""

from django import forms
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
