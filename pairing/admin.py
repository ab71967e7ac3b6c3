from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shuanglian.admin_scope import ScopedAdmin, ScopedExportMixin
from shuanglian.admin_versions import VersionedAdminMixin
from shuanglian.lib import phone

from . import standings
from .models import Cadre, CountyRules, Pairing, PairingException, RankLimit, Unit, VillageLink
from .resources import CadreResource
from .services import end_relation


class OpenFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("进行中")), ("no", _("已结束"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(ended_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(ended_on__isnull=False)
        return queryset


@admin.register(Unit)
class UnitAdmin(VersionedAdminMixin, ScopedAdmin):
    list_display = ["name", "level", "kind", "region"]
    list_filter = ["level", "kind"]
    search_fields = ["name"]
    list_select_related = ["region"]
    autocomplete_fields = ["region"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "region" in form.changed_data:  # its cadres are counted where it is seated
            standings.restate(obj.cadres.values_list("pk", flat=True))


@admin.register(Cadre)
class CadreAdmin(VersionedAdminMixin, ScopedExportMixin, ScopedAdmin):
    resource_classes = [CadreResource]
    list_display = ["name", "unit", "post", "rank", "category", "masked_phone", "status"]
    list_filter = ["rank", "category", "status"]
    search_fields = ["name", "phone", "unit__name"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["updated_at"]

    @admin.display(description=_("手机号码"))
    def masked_phone(self, cadre):
        return phone.mask(cadre.phone)

    # The coverage counts (pairing/standings.py) follow a cadre's unit, rank, category and status,
    # in the admin's own transaction.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        standings.restate([obj.pk])

    def delete_model(self, request, obj):
        standings.forget([obj.pk])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        standings.forget(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)


class RelationForm(forms.ModelForm):
    """The database refuses an end before the start; say so in the form instead of failing."""

    def clean(self):
        cleaned = super().clean()
        started_on = cleaned.get("started_on", self.instance.started_on)
        ended_on = cleaned.get("ended_on")
        end_reason = cleaned.get("end_reason")
        if ended_on and started_on and ended_on < started_on:
            self.add_error("ended_on", _("结束日期不能早于开始日期（%(start)s）") % {"start": started_on})
        if ended_on and not end_reason:
            self.add_error("end_reason", _("请选择结束原因"))
        if end_reason and not ended_on:
            self.add_error("ended_on", _("填写了结束原因，请同时填写结束日期"))
        return cleaned


class RelationAdmin(ScopedAdmin):
    """Links and pairings are dated relations: they end, they are never deleted or rewritten.

    An open relation may only be ended (date and reason); an ended one is history, read-only.
    """

    form = RelationForm
    deletable = False
    list_filter = [OpenFilter, "end_reason"]
    endpoints: list[str] = []

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_open:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["created_by", "created_at"]
        return [*self.endpoints, "started_on", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            if obj.ended_on:
                end_relation(relation=obj, ended_on=obj.ended_on, reason=obj.end_reason, by=request.user)
            return
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(VillageLink)
class VillageLinkAdmin(RelationAdmin):
    list_display = ["unit", "village", "started_on", "ended_on", "end_reason"]
    search_fields = ["unit__name", "village__name"]
    list_select_related = ["unit", "village"]
    autocomplete_fields = ["unit", "village"]
    endpoints = ["unit", "village"]


@admin.register(Pairing)
class PairingAdmin(RelationAdmin):
    list_display = ["cadre", "household", "role", "started_on", "ended_on", "end_reason"]
    list_filter = [OpenFilter, "role", "end_reason"]
    search_fields = ["cadre__name", "household__head_name"]
    list_select_related = ["cadre", "household"]
    autocomplete_fields = ["cadre", "household"]
    endpoints = ["cadre", "household", "role"]

    def has_add_permission(self, request):
        # New pairings are made on the pages, which check the county's rules.
        return False


@admin.register(CountyRules)
class CountyRulesAdmin(ScopedAdmin):
    list_display = ["county", "exempt_categories", "households_in_linked_villages", "updated_at"]
    list_select_related = ["county"]
    autocomplete_fields = ["county"]


@admin.register(RankLimit)
class RankLimitAdmin(ScopedAdmin):
    list_display = ["county", "rank", "max_households", "max_poor", "min_poor"]
    list_filter = ["rank"]
    list_select_related = ["county"]
    autocomplete_fields = ["county"]


@admin.register(PairingException)
class PairingExceptionAdmin(ScopedAdmin):
    list_display = ["cadre", "village", "reason", "created_by", "created_at"]
    list_select_related = ["cadre", "village", "created_by"]
    autocomplete_fields = ["cadre", "village"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
