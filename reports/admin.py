from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shuanglian.admin_scope import ScopedAdmin

from .models import ReportDueDay


class ReportDueDayForm(forms.ModelForm):
    # Bounded like the table's check (1 to 28: every month has the day), with the bound said in
    # Chinese under the field rather than the constraint's name.
    day = forms.IntegerField(
        label=_("次月报送截止日"),
        min_value=1,
        max_value=28,
        help_text=_("下月几日前报送，1至28日"),
        error_messages={
            "min_value": _("截止日须在1至28日之间"),
            "max_value": _("截止日须在1至28日之间"),
        },
    )

    class Meta:
        model = ReportDueDay
        fields = ["level", "day"]


@admin.register(ReportDueDay)
class ReportDueDayAdmin(ScopedAdmin):
    """The province office sets by which day of the next month each level reports; a level with no
    row keeps the default (townships and units the 3rd, counties the 5th, cities the 8th). Read by
    every office (the due days are the province's rule), set by the province (WRITE_ROLES)."""

    form = ReportDueDayForm
    list_display = ["level", "day"]
    ordering = ["level"]

    def get_queryset(self, request):
        # Not located anywhere: one row per level for the whole province.
        return ReportDueDay.objects.order_by(*self.get_ordering(request))
