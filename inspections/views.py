"""Pages of the inspections app: flags and their review, inspections (sample, call-backs, findings,
report), rectification items, the villages' notice lists and the typical cases. Thin: parse, call a
selector or a service, render."""

import os
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.models import Region
from shuanglian.access import OFFICE_ROLES, require_roles
from shuanglian.lib import params
from visits.models import Visit

from . import evidence, report, selectors, services
from . import notice as notices
from .forms import CaseForm, FindingForm, InspectionForm
from .models import (
    Flag,
    FlagVisit,
    Inspection,
    Rectification,
    RectificationEvidence,
    SampledVisit,
    TypicalCase,
)

OFFICES = ("township", "county", "city", "province")


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- flags ---------------------------------------------------------------------------------------


@require_roles(*OFFICES)
def flag_list(request):
    kind = params.parse_choice(request.GET.get("kind"), Flag.Kind.choices)
    status = params.parse_choice(request.GET.get("status"), Flag.Status.choices, default=Flag.Status.OPEN)
    flags = (
        Flag.objects.visible_to(request.user).filter(status=status).select_related("village__parent", "cadre")
    )
    if kind:
        flags = flags.filter(kind=kind)
    page = Paginator(flags, settings.PAGE_SIZE).get_page(params.parse_page(request.GET.get("page")))
    counts = selectors.flag_counts(request.user)
    query = "&".join(f"{k}={v}" for k, v in (("kind", kind), ("status", status)) if v)
    return render(
        request,
        "inspections/flag_list.html",
        {
            "page": page,
            "kind": kind,
            "status": status,
            "kinds": Flag.Kind.choices,
            "statuses": Flag.Status.choices,
            "counts": counts,
            "query": query,
        },
    )


def _flag_for(user, pk) -> Flag:
    return get_object_or_404(Flag.objects.visible_to(user).select_related("village__parent", "cadre"), pk=pk)


@require_roles(*OFFICES)
def flag_detail(request, pk):
    flag = _flag_for(request.user, pk)
    visit_ids = FlagVisit.objects.filter(flag=flag).values("visit_id")
    visits = Visit.objects.filter(pk__in=visit_ids).select_related(
        "household__village", "cadre__unit", "recorded_by"
    )
    return render(
        request,
        "inspections/flag_detail.html",
        {
            "flag": flag,
            "visits": visits.order_by("visited_on", "id")[:200],
            "can_review": services.may_review(request.user) and flag.status == Flag.Status.OPEN,
        },
    )


@require_roles(*OFFICE_ROLES)
@require_POST
def flag_review(request, pk):
    flag = _flag_for(request.user, pk)
    decision = params.parse_choice(request.POST.get("decision"), ["confirm", "dismiss"])
    if decision is None:
        messages.error(request, _("请选择确认或排除。"))
        return redirect("inspections:flag_detail", pk=flag.pk)
    try:
        services.review_flag(
            by=request.user,
            flag=flag,
            confirm=decision == "confirm",
            note=params.parse_text(request.POST.get("note", ""), max_length=300),
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(
            request,
            _("已确认为问题，并向乡镇下发整改事项。") if decision == "confirm" else _("已排除该疑点。"),
        )
    return redirect("inspections:flag_detail", pk=flag.pk)


# --- inspections ---------------------------------------------------------------------------------


@login_required
def inspection_list(request):
    inspections = Inspection.objects.visible_to(request.user).select_related("region")
    return render(
        request,
        "inspections/inspection_list.html",
        {"inspections": inspections, "can_create": services.may_inspect(request.user)},
    )


@require_roles(*OFFICE_ROLES)
def inspection_create(request):
    form = InspectionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            inspection = services.create_inspection(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("已创建督查，抽取走访 %(n)s 条。") % {"n": inspection.samples.count()}
            )
            return redirect("inspections:inspection_detail", pk=inspection.pk)
    return render(request, "inspections/inspection_form.html", {"form": form})


def _inspection_for(user, pk) -> Inspection:
    return get_object_or_404(Inspection.objects.visible_to(user).select_related("region"), pk=pk)


@login_required
def inspection_detail(request, pk):
    inspection = _inspection_for(request.user, pk)
    manages = Inspection.objects.managed_by(request.user).filter(pk=inspection.pk).exists()
    findings = inspection.findings.prefetch_related(
        Prefetch("rectifications", queryset=Rectification.objects.select_related("township", "unit"))
    )
    return render(
        request,
        "inspections/inspection_detail.html",
        {
            "inspection": inspection,
            "progress": report.progress(inspection),
            "findings": findings,
            "manages": manages and inspection.status == Inspection.Status.OPEN,
            "checks": services.may_check(request.user, inspection),
            "finding_form": FindingForm(inspection=inspection) if manages else None,
            "townships": inspection.townships.all(),
            "units": inspection.units.all(),
            "team": inspection.team.all(),
        },
    )


@require_roles(*OFFICE_ROLES)
@require_POST
def inspection_close(request, pk):
    inspection = get_object_or_404(Inspection.objects.managed_by(request.user), pk=pk)
    services.close_inspection(by=request.user, inspection=inspection)
    messages.success(request, _("督查已结束。"))
    return redirect("inspections:inspection_detail", pk=inspection.pk)


@require_roles(*OFFICE_ROLES)
@require_POST
def finding_add(request, pk):
    inspection = get_object_or_404(Inspection.objects.managed_by(request.user), pk=pk)
    form = FindingForm(request.POST, inspection=inspection)
    if form.is_valid():
        try:
            services.add_finding(by=request.user, inspection=inspection, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, _("已登记问题并下发整改事项。"))
    else:
        messages.error(
            request,
            " ".join(
                f"{form.fields[k].label}：{' '.join(v)}" if k in form.fields else " ".join(v)
                for k, v in form.errors.items()
            ),
        )
    return redirect("inspections:inspection_detail", pk=inspection.pk)


@login_required
def checks(request, pk):
    """The inspector's phone page: the sampled visits with what has been checked."""
    inspection = _inspection_for(request.user, pk)
    if not services.may_check(request.user, inspection):
        raise PermissionDenied
    samples = inspection.samples.select_related("visit__household__village", "visit__cadre__unit")
    done = sum(1 for s in samples if s.result)
    return render(
        request, "inspections/checks.html", {"inspection": inspection, "samples": samples, "done": done}
    )


@login_required
def check(request, pk):
    """One sampled visit: the record as entered, and the call-back or on-site result."""
    sample = get_object_or_404(
        SampledVisit.objects.visible_to(request.user).select_related(
            "inspection", "visit__household__village", "visit__cadre__unit"
        ),
        pk=pk,
    )
    if not services.may_check(request.user, sample.inspection):
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            services.record_check(
                by=request.user,
                sample=sample,
                result=params.parse_choice(
                    request.POST.get("result"), SampledVisit.Result.choices, default=""
                ),
                method=params.parse_choice(
                    request.POST.get("method"), SampledVisit.Method.choices, default=""
                ),
                note=params.parse_text(request.POST.get("note", ""), max_length=300),
            )
        except ValidationError as refusal:
            error = _errors(refusal)
        else:
            following = (
                sample.inspection.samples.filter(result="", order__gt=sample.order).order_by("order").first()
            )
            messages.success(request, _("已保存核查结果。"))
            if following:
                return redirect("inspections:check", pk=following.pk)
            return redirect("inspections:checks", pk=sample.inspection_id)
    return render(
        request,
        "inspections/check.html",
        {
            "sample": sample,
            "visit": sample.visit,
            "error": error,
            "results": SampledVisit.Result.choices,
            "methods": SampledVisit.Method.choices,
        },
    )


@login_required
def inspection_report(request, pk):
    inspection = _inspection_for(request.user, pk)
    return render(
        request, "inspections/report.html", {"inspection": inspection, **report.summary(inspection)}
    )


@login_required
def inspection_report_docx(request, pk):
    inspection = _inspection_for(request.user, pk)
    response = HttpResponse(
        report.docx(inspection),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = f'attachment; filename="inspection-{inspection.pk}.docx"'
    return response


# --- rectification -------------------------------------------------------------------------------


@login_required
def rectification_list(request):
    today = timezone.localdate()
    items = (
        Rectification.objects.visible_to(request.user)
        .select_related("finding", "township", "unit")
        .order_by("status", "due_on", "id")
    )
    overdue_only = request.GET.get("overdue") == "on"
    if overdue_only:
        items = items.overdue(today)
    page = Paginator(items, settings.PAGE_SIZE).get_page(params.parse_page(request.GET.get("page")))
    return render(
        request,
        "inspections/rectification_list.html",
        {
            "page": page,
            "today": today,
            "overdue_only": overdue_only,
            "query": "overdue=on" if overdue_only else "",
        },
    )


@login_required
def rectification(request, pk):
    item = get_object_or_404(
        Rectification.objects.visible_to(request.user).select_related(
            "finding__inspection", "township", "unit"
        ),
        pk=pk,
    )
    if request.method == "POST":
        action = params.parse_choice(request.POST.get("action"), ["answer", "close", "return"])
        try:
            if action == "answer":
                # Checked (size, type, name) before anything is written: a refused file keeps all out.
                files = evidence.read_uploads(request.FILES.getlist("evidence_files"))
                services.answer_rectification(
                    by=request.user,
                    item=item,
                    answer=params.parse_text(request.POST.get("answer", ""), max_length=2000),
                    evidence=params.parse_text(request.POST.get("evidence", ""), max_length=2000),
                    files=files,
                )
                messages.success(request, _("已提交整改情况，等待双联办销号。"))
            elif action in ("close", "return"):
                services.close_rectification(
                    by=request.user,
                    item=item,
                    accept=action == "close",
                    note=params.parse_text(request.POST.get("note", ""), max_length=300),
                )
                messages.success(request, _("已销号。") if action == "close" else _("已退回重新整改。"))
            else:
                messages.error(request, _("请选择操作。"))
        except ValidationError as error:
            messages.error(request, _errors(error))
        return redirect("inspections:rectification", pk=item.pk)
    return render(
        request,
        "inspections/rectification.html",
        {
            "item": item,
            "overdue": item.is_overdue(),
            "can_answer": services.may_answer(request.user, item)
            and item.status != Rectification.Status.CLOSED,
            "can_close": services.may_close(request.user, item)
            and item.status == Rectification.Status.ANSWERED,
            "files": item.files.only("id", "name", "size", "uploaded_at").order_by("id"),
            "max_mb": settings.INSPECTION_EVIDENCE_MAX_MB,
            "max_files": settings.INSPECTION_EVIDENCE_MAX_FILES,
            "allowed": evidence.allowed_text(),
            "accept": ",".join(evidence.ALLOWED),
        },
    )


@login_required
def rectification_file(request, pk, file_pk):
    """One evidence file, for whoever sees its item (the answering side, the closing office);
    anyone else gets a 404, as if it did not exist."""
    file = get_object_or_404(
        RectificationEvidence.objects.visible_to(request.user), pk=file_pk, rectification_id=pk
    )
    extension = os.path.splitext(file.name)[1].lower()
    response = HttpResponse(
        bytes(file.content), content_type=evidence.CONTENT_TYPES.get(extension, "application/octet-stream")
    )
    # Always a download, never shown inline: the browser does not render what a township uploaded.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file.name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- notice lists --------------------------------------------------------------------------------


@require_roles(*OFFICES)
def notice_list(request):
    villages = Region.objects.visible_to(request.user).villages().select_related("parent").order_by("code")
    page = Paginator(villages, settings.PAGE_SIZE).get_page(params.parse_page(request.GET.get("page")))
    return render(
        request, "inspections/notice_list.html", {"page": page, **selectors.notice_states(page.object_list)}
    )


def _village_for(user, code) -> Region:
    return get_object_or_404(Region.objects.visible_to(user).villages().select_related("parent"), code=code)


@require_roles(*OFFICES)
def notice(request, code):
    """The printable list: only the columns that may be posted are ever read (inspections.notice)."""
    village = _village_for(request.user, code)
    listed = notices.rows(village)
    posting, stale = notices.status(village, listed)
    return render(
        request,
        "inspections/notice.html",
        {
            "village": village,
            "rows": listed,
            "posting": posting,
            "stale": stale,
            "can_post": services.may_post_notice(request.user),
            "today": timezone.localdate(),
        },
    )


@require_roles("township")
@require_POST
def notice_post(request, code):
    village = _village_for(request.user, code)
    posted_on = params.parse_date(request.POST.get("posted_on"), default=timezone.localdate())
    try:
        services.record_posting(by=request.user, village=village, posted_on=posted_on)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("已登记公示张贴。"))
    return redirect("inspections:notice", code=village.code)


# --- typical cases -------------------------------------------------------------------------------


@require_roles(*OFFICES)
def case_list(request):
    """典型经验: the approved cases every office reads, and the nominations waiting for this office."""
    cases = TypicalCase.objects.visible_to(request.user).select_related("region")
    approved = [c for c in cases if c.status == TypicalCase.Status.APPROVED]
    waiting = [
        c
        for c in cases
        if c.status == TypicalCase.Status.NOMINATED and services.may_review_case(request.user, c)
    ]
    mine = [c for c in cases if c.status != TypicalCase.Status.APPROVED and c not in waiting]
    return render(
        request,
        "inspections/case_list.html",
        {
            "approved": approved,
            "waiting": waiting,
            "mine": mine,
            "can_nominate": services.may_nominate(request.user),
        },
    )


@require_roles(*OFFICES)
def case_nominate(request):
    form = CaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.nominate_case(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已推荐，等待上一级双联办审核。"))
            return redirect("inspections:case_detail", pk=case.pk)
    return render(request, "inspections/case_form.html", {"form": form})


def _case_for(user, pk) -> TypicalCase:
    return get_object_or_404(
        TypicalCase.objects.visible_to(user).select_related(
            "region",
            "visit__household",
            "visit__cadre__unit",
            "household_plan__household",
            "village_plan__village",
            "cadre__unit",
            "unit",
        ),
        pk=pk,
    )


@require_roles(*OFFICES)
def case_detail(request, pk):
    case = _case_for(request.user, pk)
    return render(
        request,
        "inspections/case_detail.html",
        {
            "case": case,
            "subject": selectors.case_subject(case),
            "can_review": case.status == TypicalCase.Status.NOMINATED
            and services.may_review_case(request.user, case),
        },
    )


@require_roles(*OFFICES)
@require_POST
def case_review(request, pk):
    case = _case_for(request.user, pk)
    decision = params.parse_choice(request.POST.get("decision"), ["approve", "return"])
    try:
        if decision is None:
            raise ValidationError(_("请选择通过或退回。"))
        services.review_case(
            by=request.user,
            case=case,
            approve=decision == "approve",
            note=params.parse_text(request.POST.get("note", ""), max_length=300),
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("已通过，在典型经验中发布。") if decision == "approve" else _("已退回。"))
    return redirect("inspections:case_detail", pk=case.pk)
