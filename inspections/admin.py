"""The inspections models in the admin: read-only, scoped like the pages.

Every write here has a service behind its page (a flag's review, a sample's call-back, a finding's
rectification, a case's approval, a notice's posting), which checks who acts and keeps the history:
the admin shows the records, it never edits them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shuanglian.admin_scope import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Finding,
    Flag,
    FlagRun,
    Inspection,
    NoticePosting,
    Rectification,
    RectificationEvidence,
    SampledVisit,
    TypicalCase,
)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "village", "cadre", "status", "reviewed_by", "reviewed_at"]
    list_filter = ["kind", "status"]
    search_fields = ["reason", "cadre__name", "village__name"]
    list_select_related = ["village", "cadre", "reviewed_by"]
    date_hierarchy = "created_at"
    fields = ["kind", "village", "cadre", "reason", "similarity", "status", "review_note", "reviewed_by"]
    fields += ["reviewed_at", "finding", "created_at"]
    readonly_fields = fields


@admin.register(FlagRun)
class FlagRunAdmin(ReadOnlyAdmin):
    """What each run of flag_records did: counts only, no person, so every office may read it."""

    list_display = ["started_at", "since", "first_visit_id", "last_visit_id", "created", "seconds"]

    def get_queryset(self, request):
        # Not located anywhere: one run covers the whole province.
        return FlagRun.objects.order_by(*self.get_ordering(request))


class SampledVisitInline(ReadOnlyInline):
    model = SampledVisit
    fields = ["order", "visit", "township", "unit", "weight", "result", "method", "note", "checked_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("visit__household", "visit__cadre", "township", "unit", "checked_by")
        )


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["name", "region", "starts_on", "ends_on", "status", "created_by"]
    list_filter = ["status"]
    search_fields = ["name", "region__name"]
    list_select_related = ["region", "created_by"]
    date_hierarchy = "starts_on"
    inlines = [SampledVisitInline]


class RectificationInline(ReadOnlyInline):
    model = Rectification
    fields = ["township", "unit", "requirement", "due_on", "status", "answered_by", "closed_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("township", "unit", "answered_by", "closed_by")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["text_start", "region", "inspection", "created_by", "created_at"]
    search_fields = ["text", "region__name"]
    list_select_related = ["region", "inspection", "created_by"]
    inlines = [RectificationInline]

    @admin.display(description=_("问题"))
    def text_start(self, finding):
        return str(finding)


class EvidenceInline(ReadOnlyInline):
    model = RectificationEvidence
    fields = ["name", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["requirement", "responsible_display", "due_on", "status", "answered_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["requirement", "township__name", "unit__name"]
    list_select_related = ["township", "unit"]
    inlines = [EvidenceInline]

    @admin.display(description=_("责任乡镇或单位"))
    def responsible_display(self, item):
        return str(item.responsible)


@admin.register(NoticePosting)
class NoticePostingAdmin(ReadOnlyAdmin):
    list_display = ["village", "posted_on", "households", "recorded_by", "recorded_at"]
    search_fields = ["village__name"]
    list_select_related = ["village", "recorded_by"]
    date_hierarchy = "posted_on"


@admin.register(TypicalCase)
class TypicalCaseAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "region", "status", "nominated_by", "nominated_at", "reviewed_by"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "region__name"]
    list_select_related = ["region", "nominated_by", "reviewed_by"]
