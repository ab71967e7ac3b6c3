from urllib.parse import urlencode

from django import forms
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _


class HtmlDateInput(forms.DateInput):
    """The browser's date picker, which only reads ISO dates (the zh-hans format is 2025/07/01)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def with_all_option(choices, label):
    """Filter choices led by an empty "all" option, e.g. 全部户属性."""
    return [("", label), *choices]


class LookupSelect(forms.Select):
    """A select filled from the server as the user types, for choices too many to send
    (a county's households). It renders only the chosen option; the search box beside it
    asks `url?q=…` (JSON {"results": [{"id", "text"}]}) and refills the options. The field's
    queryset still decides what is valid, so the lookup only saves typing, never widens scope.
    """

    template_name = "widgets/lookup_select.html"

    def __init__(self, url_name: str, placeholder: str, attrs=None, *, empty_label=None):
        super().__init__(attrs=attrs)
        self.url_name = url_name
        self.placeholder = placeholder
        # An empty list with no words left people wondering what to do (issue 19): it says so.
        self.empty_label = empty_label if empty_label is not None else _("（先在搜索框输入，再从这里选择）")
        self.params = {}  # narrows the answers, e.g. {"village": code} while entering one village's diary

    def get_context(self, name, value, attrs):
        from django.urls import reverse  # widgets are built at import time, URLs after

        context = super().get_context(name, value, attrs)
        query = f"?{urlencode(self.params)}" if self.params else ""
        context["widget"]["lookup_url"] = reverse(self.url_name) + query
        context["widget"]["placeholder"] = self.placeholder
        # Focus belongs in the search box, where typing starts.
        context["widget"]["autofocus"] = context["widget"]["attrs"].pop("autofocus", False)
        return context

    def optgroups(self, name, value, attrs=None):
        field = self.choices.field
        chosen = {str(v) for v in value if str(v) not in field.empty_values}
        options = [self.create_option(name, "", self.empty_label, not chosen, 0)]
        for index, obj in enumerate(field.queryset.filter(pk__in=chosen), start=1):
            options.append(self.create_option(name, obj.pk, field.label_from_instance(obj), True, index))
        return [(None, options, 0)]


LOOKUP_LIMIT = 20


def lookup_response(queryset) -> JsonResponse:
    """The first LOOKUP_LIMIT rows as a chooser's answers; objects name themselves by `choice_label`."""
    return JsonResponse(
        {"results": [{"id": obj.pk, "text": obj.choice_label} for obj in queryset[:LOOKUP_LIMIT]]}
    )
