from django import forms


class HtmlDateInput(forms.DateInput):
    """The browser's date picker, which only reads ISO dates (the zh-hans format is 2025/07/01)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def with_all_option(choices, label):
    """Filter choices led by an empty "all" option, e.g. 全部户属性."""
    return [("", label), *choices]
