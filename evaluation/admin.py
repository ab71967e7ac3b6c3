"""Mass evaluation in the admin: scoped like its pages (each model's visible_to), and read-only.

Rounds, questionnaires, ballots, flags, cases and scores change only through evaluation.services
(the questionnaire locks at the first ballot, a correction keeps the old answers, a case needs its
outcome, scores are computed from the record): here the offices look them up and export them. The
one thing edited here is a collector's contact and whether they still collect.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shuanglian.admin_scope import ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin, ScopedExportMixin

from .models import (
    Ballot,
    BallotCorrection,
    Collector,
    Flag,
    Question,
    Round,
    SampledHousehold,
    Score,
    ViolationCase,
)


class QuestionInline(ReadOnlyInline):
    model = Question
    fields = ["order", "code", "text", "kind", "scored", "weight", "required"]
    readonly_fields = fields

    def get_queryset(self, request):
        return Question.objects.all()  # the parent round is already scoped


@admin.register(Round)
class RoundAdmin(ScopedExportMixin, ReadOnlyAdmin):
    list_display = ["name", "region", "year", "period", "status", "sample_method", "ends_on", "scored_at"]
    list_filter = ["year", "period", "status", "sample_method"]
    search_fields = ["name", "region__name"]
    list_select_related = ["region"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ["round", "order", "text", "kind", "scored", "weight"]
    list_filter = ["kind", "scored"]
    search_fields = ["text", "round__name"]
    list_select_related = ["round"]


@admin.register(Collector)
class CollectorAdmin(ScopedExportMixin, ScopedAdmin):
    """An office keeps its collectors' names, phones and whether they still collect; who the account
    is, where it is registered and its unit (which decides whom it may not score) stay as registered."""

    deletable = False  # ballots name their collector
    list_display = ["name", "kind", "region", "unit", "active", "registered_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "user__username"]
    list_select_related = ["region", "unit"]
    fields = ["name", "phone", "active", "user", "region", "kind", "unit", "registered_by", "registered_at"]
    readonly_fields = ["user", "region", "kind", "unit", "registered_by", "registered_at"]

    def has_add_permission(self, request):
        return False  # registered on the round pages (services.register_collector checks the scope)


@admin.register(SampledHousehold)
class SampledHouseholdAdmin(ScopedExportMixin, ReadOnlyAdmin):
    list_display = ["round", "household", "cadre", "cadre_unit", "collector", "status", "unreachable_reason"]
    list_filter = ["status", "unreachable_reason"]
    search_fields = ["household__head_name", "cadre__name"]
    list_select_related = ["round", "household", "cadre", "cadre_unit", "collector"]


class CorrectionInline(ReadOnlyInline):
    """A ballot's corrections: the old and the new answers, who and why."""

    model = BallotCorrection
    fields = ["at", "by", "reason", "old_answers", "new_answers"]
    readonly_fields = fields

    def get_queryset(self, request):
        return BallotCorrection.objects.select_related("by")  # the parent ballot is already scoped


@admin.register(Ballot)
class BallotAdmin(ScopedExportMixin, ReadOnlyAdmin):
    list_display = ["round", "household", "collector", "collected_at", "mode", "source", "corrected"]
    list_filter = ["mode", "source", "corrected"]
    search_fields = ["household__head_name", "collector__name"]
    list_select_related = ["round", "household", "collector"]
    inlines = [CorrectionInline]


@admin.register(BallotCorrection)
class BallotCorrectionAdmin(ReadOnlyAdmin):
    list_display = ["ballot", "reason", "by", "at"]
    search_fields = ["reason", "ballot__household__head_name"]
    list_select_related = ["ballot__round", "ballot__household", "by"]


@admin.register(Flag)
class FlagAdmin(ScopedExportMixin, ReadOnlyAdmin):
    list_display = ["round", "kind", "key", "village", "found_at", "checked", "checked_by"]
    list_filter = ["kind", ("checked_at", admin.EmptyFieldListFilter)]
    search_fields = ["reason", "key"]
    list_select_related = ["round", "village", "checked_by"]

    @admin.display(description=_("已核实"), boolean=True)
    def checked(self, flag):
        return flag.checked_at is not None


@admin.register(ViolationCase)
class ViolationCaseAdmin(ScopedExportMixin, ReadOnlyAdmin):
    list_display = ["round", "cadre", "status", "opened_at", "updated_by", "updated_at"]
    list_filter = ["status"]
    search_fields = ["cadre__name", "report", "outcome"]
    list_select_related = ["round", "cadre", "updated_by"]


@admin.register(Score)
class ScoreAdmin(ScopedExportMixin, ReadOnlyAdmin):
    list_display = [
        "round",
        "kind",
        "name",
        "unit_name",
        "ballots",
        "masses",
        "process",
        "combined",
        "grade",
        "rank",
    ]
    list_filter = ["kind", "grade"]
    search_fields = ["name", "unit_name"]
    list_select_related = ["round"]
