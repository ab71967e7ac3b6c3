"""Upload → background check with progress → preview → confirm → done."""

import uuid
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.forms import HouseholdFilterForm
from households.models import Household
from shuanglian.access import may_export_roster
from shuanglian.lib.excel import XLSX

from . import attempts, exports, services, tasks, workbooks
from .forms import UploadForm
from .models import RUNNING, ExportJob, ImportBatch
from .reader import FileRefused


def require_importer(view):
    """A signed-in user who may import no kind at all gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.importable_kinds(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def get_batch_for_user(user, pk) -> ImportBatch:
    """The batch if it was made within the user's scope (else 404) and of a kind the user may import
    (else 403)."""
    batch = get_object_or_404(ImportBatch.objects.visible_to(user).select_related("created_by"), pk=pk)
    if not services.may_import(user, batch.kind):
        raise PermissionDenied
    return batch


def _xlsx(filename: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@require_importer
def batch_list(request):
    form = UploadForm(
        request.POST or None, request.FILES or None, kinds=services.importable_kinds(request.user)
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch, created = services.create_batch_once(
            data=upload.read(), filename=upload.name, kind=form.cleaned_data["kind"], user=request.user
        )
        if created:
            tasks.check_batch.enqueue(batch.pk)
        else:  # the second press of a double click
            messages.info(request, _("同一文件刚才已上传，未重复上传，已打开该批次"))
        return redirect("imports:detail", pk=batch.pk)
    kinds = services.importable_kinds(request.user)
    batches = (
        ImportBatch.objects.visible_to(request.user)
        .filter(kind__in=kinds)
        .select_related("created_by")
        .defer("content")[:30]
    )
    templates = [(kind, workbooks.TEMPLATE_LABELS[kind]) for kind in kinds]
    layouts = []
    if ImportBatch.Kind.HOUSEHOLDS in kinds:
        templates.insert(
            kinds.index(ImportBatch.Kind.HOUSEHOLDS) + 1, ("persons", workbooks.TEMPLATE_LABELS["persons"])
        )
        layouts = workbooks.household_layouts()
    context = {
        "form": form,
        "batches": batches,
        "templates": templates,
        "layouts": layouts,
        "attempts": attempts.for_office(request.user),
    }
    return render(request, "imports/batch_list.html", context)


@require_importer
def batch_detail(request, pk):
    batch = get_batch_for_user(request.user, pk)
    report = batch.report or {}
    return render(
        request,
        "imports/batch_detail.html",
        {
            "batch": batch,
            "report": report,
            "counts": report.get("counts", {}),
            "running": batch.status in RUNNING,
            "errors": report.get("errors", [])[:50],
            "noun": {"cadres": _("干部"), "links": _("联村关系"), "pairings": _("结对关系")}.get(
                batch.kind, ""
            ),
        },
    )


@require_importer
def batch_status(request, pk):
    batch = get_batch_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": batch.status,
            "label": batch.get_status_display(),
            "rows": batch.rows_read,
            "running": batch.status in RUNNING,
        }
    )


@require_importer
@require_POST
def batch_confirm(request, pk):
    batch = get_batch_for_user(request.user, pk)
    try:
        claimed = services.confirm_batch(batch=batch, user=request.user)
    except services.NotAllowed as error:
        messages.error(request, str(error))
        return redirect("imports:detail", pk=batch.pk)
    if claimed:
        tasks.apply_batch.enqueue(batch.pk, request.user.pk)
        messages.success(request, _("已确认，正在后台导入"))
    else:
        # The second press of a double click (or a second tab): the first one's import is under way or done.
        messages.info(
            request,
            _("该批次已确认，未重复导入，当前状态为“%(status)s”") % {"status": batch.get_status_display()},
        )
    return redirect("imports:detail", pk=batch.pk)


@require_importer
@require_POST
def batch_retry(request, pk):
    """A failed batch (its worker died, it ran too long, the reader gave up) is checked again."""
    batch = get_batch_for_user(request.user, pk)
    try:
        queued = services.retry_batch(batch=batch, user=request.user)
    except services.NotAllowed as error:
        messages.error(request, str(error))
        return redirect("imports:detail", pk=batch.pk)
    if queued:
        tasks.check_batch.enqueue(batch.pk)
    else:  # the second press of a double click: the first queued it
        batch.refresh_from_db(fields=["status"])
        messages.info(
            request,
            _("该批次当前状态为“%(status)s”，未重复检查") % {"status": batch.get_status_display()},
        )
    return redirect("imports:detail", pk=batch.pk)


@require_importer
def batch_errors(request, pk):
    batch = get_batch_for_user(request.user, pk)
    errors = (batch.report or {}).get("errors") or []
    if not errors or batch.content_deleted_at is not None:
        raise Http404
    try:
        content = workbooks.error_workbook_bytes(bytes(batch.content), batch.filename, errors, batch.kind)
    except FileRefused:
        raise Http404 from None
    stem = batch.filename.rsplit(".", 1)[0]
    return _xlsx(f"{stem}-错误.xlsx", content)


@login_required
def template(request, kind):
    if kind not in workbooks.TEMPLATE_SHEETS:
        raise Http404
    return _xlsx(f"{workbooks.TEMPLATE_LABELS[kind]}导入模板.xlsx", workbooks.template_bytes(kind))


@login_required
def export_households(request):
    """The household list as filtered on its page, as a roster that imports back unchanged.

    A small list comes at once; a large one (a county: about a minute) is offered as a background
    job, started by a POST from this page (imports/exports.py)."""
    if not may_export_roster(request.user):
        raise PermissionDenied
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    households = form.filter(Household.objects.visible_to(request.user))
    if request.method == "POST":
        job = exports.start_export(
            builder="imports.exports.household_roster",
            params={name: request.GET.getlist(name) for name in form.fields if name in request.GET},
            label=_("农户名册"),
            filename="农户名册.xlsx",
            user=request.user,
            submission_key=exports.parse_key(request.POST.get("submission_key")),
        )
        if job is None:
            raise Http404
        return redirect("imports:export_detail", pk=job.pk)
    count = households.count()
    if count <= settings.EXPORT_INLINE_ROWS:
        return _xlsx("农户名册.xlsx", workbooks.export_households_bytes(households))
    return render(
        request,
        "imports/export_start.html",
        {"count": count, "label": _("农户名册"), "submission_key": uuid.uuid4(), "back": "households:list"},
    )


def get_export_for_user(user, pk) -> ExportJob:
    """The user's own export job, else 404."""
    return get_object_or_404(ExportJob.objects.visible_to(user).defer("content"), pk=pk)


@login_required
def export_detail(request, pk):
    job = get_export_for_user(request.user, pk)
    return render(request, "imports/export_detail.html", {"job": job})


@login_required
def export_status(request, pk):
    job = get_export_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": job.status,
            "label": job.get_status_display(),
            "done": job.rows_done,
            "total": job.rows_total,
            "percent": job.percent,
            "running": job.running,
        }
    )


@login_required
def export_download(request, pk):
    job = get_object_or_404(ExportJob.objects.visible_to(request.user), pk=pk)
    if job.status == ExportJob.Status.EXPIRED:
        # An old link to a purged file: the job's page says 已过期 and offers to export again.
        return redirect("imports:export_detail", pk=job.pk)
    if job.status != ExportJob.Status.DONE or job.content is None:
        raise Http404
    return _xlsx_or_file(job.filename, bytes(job.content))


def _xlsx_or_file(filename: str, content: bytes) -> HttpResponse:
    if filename.endswith(".xlsx"):
        return _xlsx(filename, content)
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
