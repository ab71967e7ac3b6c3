"""Pages of the quarterly dispatch (季调度), its bulletins (通报) and the annual summary (年总结)."""

import uuid
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imports import exports
from shuanglian.lib import params
from shuanglian.lib.excel import XLSX
from shuanglian.lib.history import acting
from shuanglian.lib.versions import STALE_MESSAGE

from . import annual, bulletins, dispatch
from .dispatch import Quarter
from .dispatch_forms import AnnualSummaryForm, BulletinForm, IssueForm
from .models import AnnualSummary, Bulletin

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def require_office(view):
    """The offices that rank and issue (county, city, province; superuser as the province): 403 else."""

    @login_required
    def wrapped(request, *args, **kwargs):
        office = bulletins.office_of(request.user)
        if office is None:
            raise PermissionDenied
        return view(request, office, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _quarter(request) -> Quarter:
    return Quarter.parse(request.GET.get("quarter"), default=Quarter.of(timezone.localdate()))


def score_chart(ranking) -> dict:
    """A bar chart of the ranked rows' scores (the table beside it carries every figure)."""
    ranked = [row for row in ranking.rows if row.score is not None]
    return {
        "type": "bar",
        "categories": [row.name for row in ranked],
        "series": [{"name": _("综合得分"), "data": [float(row.score) for row in ranked]}],
        "unit": _("分"),
    }


@require_office
def dispatch_page(request, office):
    """The office's quarterly ranking of the regions and units below, with the rule and movement."""
    quarter = _quarter(request)
    prefix = office.code[: dispatch.LEVEL_DIGITS[office.level]]
    refresh = "refresh" in request.GET
    rankings, counted_at = dispatch.cached_rankings(prefix, office.level, quarter, refresh=refresh)
    charts = [
        {"id": f"ranking-chart-{index}", "title": ranking.title, "spec": score_chart(ranking)}
        for index, ranking in enumerate(rankings)
    ]
    current = Quarter.of(timezone.localdate())
    return render(
        request,
        "reports/dispatch_ranking.html",
        {
            "office": office,
            "quarter": quarter,
            "quarter_code": str(quarter),
            "previous": quarter.previous,
            "following": quarter.next if quarter.next <= current else None,
            "as_of": dispatch.as_of(quarter.period),
            "rankings": list(zip(rankings, charts, strict=True)),
            "indicators": [(ind, dispatch.indicators.get(ind.key)) for ind in dispatch.RANKING],
            "rule": dispatch.RULE,
            "counted_at": counted_at,
            "submission_key": uuid.uuid4(),
            "bulletins": Bulletin.objects.filter(region=office, year=quarter.year, quarter=quarter.number),
        },
    )


@require_office
@require_POST
def bulletin_draft(request, office):
    """Draft a bulletin from the quarter's ranking (a double click drafts once)."""
    quarter = Quarter.parse(request.POST.get("quarter"), default=Quarter.of(timezone.localdate()))
    try:
        key = uuid.UUID(str(request.POST.get("submission_key")))
    except ValueError:
        key = None
    bulletin = bulletins.draft_bulletin(region=office, quarter=quarter, by=request.user, submission_key=key)
    return redirect("reports:bulletin_detail", pk=bulletin.pk)


def get_bulletin_for_user(user, pk) -> Bulletin:
    """The bulletin if the user may read it (its office, or an office or unit below once issued), else 404."""
    return get_object_or_404(Bulletin.objects.visible_to(user).select_related("region"), pk=pk)


def _may_edit(user, bulletin: Bulletin) -> bool:
    if user.is_superuser:
        return True
    office = bulletins.office_of(user)
    return office is not None and office.code == bulletin.region_id


@login_required
def bulletin_list(request):
    """Bulletins the user's office issued or drafted, and those issued to it, with read marks."""
    visible = (
        Bulletin.objects.visible_to(request.user).select_related("region").prefetch_related("recipients")
    )
    page = params.parse_page(request.GET.get("page"))
    paginator = Paginator(visible, settings.PAGE_SIZE)
    rows = []
    for bulletin in paginator.get_page(page):
        recipients = list(bulletin.recipients.all())
        mine = bulletins.recipient_for(bulletin, request.user)
        rows.append(
            {
                "bulletin": bulletin,
                "read": sum(1 for r in recipients if r.read_at),
                "recipients": len(recipients),
                "mine": mine,
            }
        )
    return render(
        request,
        "reports/bulletin_list.html",
        {
            "rows": rows,
            "page": paginator.get_page(page),
            "may_dispatch": bulletins.office_of(request.user) is not None,
        },
    )


@login_required
def bulletin_detail(request, pk):
    """A bulletin: its office edits the draft and issues it; the offices below read it and mark it read."""
    bulletin = get_bulletin_for_user(request.user, pk)
    may_edit = _may_edit(request.user, bulletin)
    form = None
    if bulletin.status == Bulletin.Status.DRAFT and may_edit:
        form = BulletinForm(request.POST or None, instance=bulletin)
        if request.method == "POST" and form.is_valid():
            try:
                bulletins.update_bulletin(
                    bulletin=bulletin,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    **{name: form.cleaned_data[name] for name in bulletins.EDITABLE},
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("通报已保存"))
                return redirect("reports:bulletin_detail", pk=bulletin.pk)
    elif request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        messages.error(request, _("通报已印发，不能再修改"))
        return redirect("reports:bulletin_detail", pk=bulletin.pk)
    recipients = list(bulletin.recipients.select_related("region", "unit", "read_by"))
    return render(
        request,
        "reports/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "form": form,
            "issue_form": IssueForm() if form is not None else None,
            "may_edit": may_edit,
            "recipients": recipients if may_edit else [],
            "unread": [r for r in recipients if r.read_at is None] if may_edit else [],
            "mine": bulletins.recipient_for(bulletin, request.user),
            "columns": bulletins.ranking_columns(),
            "tables": [
                {
                    "title": ranking["title"],
                    "rows": [(row, bulletins.ranking_cells(row)) for row in ranking["rows"]],
                }
                for ranking in bulletin.ranking
            ],
        },
    )


@login_required
@require_POST
def bulletin_issue(request, pk):
    """Issue the draft under a document number; the second press of a double click lands on it issued."""
    bulletin = get_bulletin_for_user(request.user, pk)
    if not _may_edit(request.user, bulletin):
        raise PermissionDenied
    form = IssueForm(request.POST)
    if bulletin.status == Bulletin.Status.ISSUED:
        messages.info(request, _("该通报已印发（%(number)s），未重复印发") % {"number": bulletin.number})
        return redirect("reports:bulletin_detail", pk=bulletin.pk)
    if not form.is_valid():
        messages.error(request, _("请填写文号"))
        return redirect("reports:bulletin_detail", pk=bulletin.pk)
    try:
        issued = bulletins.issue_bulletin(
            bulletin=bulletin, number=form.cleaned_data["number"], by=request.user
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("reports:bulletin_detail", pk=bulletin.pk)
    if issued:
        messages.success(request, _("通报已印发：%(number)s") % {"number": bulletin.number})
    else:
        messages.info(request, _("该通报已印发（%(number)s），未重复印发") % {"number": bulletin.number})
    return redirect("reports:bulletin_detail", pk=bulletin.pk)


@login_required
@require_POST
def bulletin_read(request, pk):
    """The office or unit the bulletin is addressed to marks it read (twice: once)."""
    bulletin = get_bulletin_for_user(request.user, pk)
    bulletins.mark_read(bulletin=bulletin, by=request.user)
    messages.success(request, _("已标记为已阅"))
    return redirect("reports:bulletin_detail", pk=bulletin.pk)


@login_required
def bulletin_docx(request, pk):
    bulletin = get_bulletin_for_user(request.user, pk)
    name = f"{bulletin.number or _('通报草稿')}-{bulletin.title}.docx".replace("/", "-")
    return _attachment(bulletins.docx_bytes(bulletin), name, DOCX)


@login_required
def bulletin_print(request, pk):
    bulletin = get_bulletin_for_user(request.user, pk)
    return render(
        request,
        "reports/bulletin_print.html",
        {
            "bulletin": bulletin,
            "office": bulletins.office_name(bulletin.region),
            "columns": bulletins.ranking_columns(),
            "tables": [
                {
                    "title": ranking["title"],
                    "rows": [(row, bulletins.ranking_cells(row)) for row in ranking["rows"]],
                }
                for ranking in bulletin.ranking
            ],
        },
    )


# --- Annual summary (年总结) --------------------------------------------------------------------


@require_office
def annual_page(request, office):
    """The year by month as charts with their tables, totals below, bulletins, evaluation, the text."""
    year = annual.parse_year(request.GET.get("year"))
    text = AnnualSummary.objects.visible_to(request.user).filter(
        region=office, year=year
    ).first() or AnnualSummary(region=office, year=year)
    form = AnnualSummaryForm(request.POST or None, instance=text)
    if request.method == "POST" and form.is_valid():
        # The row is written only if nobody saved since the page was opened (version), in one step.
        saved = _save_summary(office, year, form.cleaned_data, request.user)
        if saved:
            messages.success(request, _("年度总结已保存"))
            return redirect(f"{request.path}?year={year}")
        form.add_error(None, STALE_MESSAGE)
    data = annual.summary(office, year)
    today = timezone.localdate()
    return render(
        request,
        "reports/annual_summary.html",
        {
            "data": data,
            "form": form,
            "years": range(today.year, max(today.year - 5, 1999), -1),
            "printing": False,
        },
    )


def _save_summary(office, year, cleaned, user) -> bool:
    with transaction.atomic(), acting(user):
        if cleaned["version"] == 0:
            try:
                with transaction.atomic():
                    AnnualSummary.objects.create(
                        region=office, year=year, text=cleaned["text"], version=1, updated_by=user
                    )
                return True
            except IntegrityError:
                return False  # someone else wrote the first version meanwhile
        row = (
            AnnualSummary.objects.select_for_update()
            .filter(region=office, year=year, version=cleaned["version"])
            .first()
        )
        if row is None:
            return False
        row.text = cleaned["text"]
        row.updated_by = user
        row.version += 1  # the row is locked: no one else moves it on meanwhile
        row.save(update_fields=["text", "updated_by", "version", "updated_at"])
        return True


@require_office
def annual_print(request, office):
    year = annual.parse_year(request.GET.get("year"))
    return render(
        request, "reports/annual_summary.html", {"data": annual.summary(office, year), "printing": True}
    )


@require_office
def annual_xlsx(request, office):
    """The summary as .xlsx: at once for a county, as a background export for a city or the province."""
    year = annual.parse_year(request.GET.get("year"))
    if request.method == "POST" or annual.is_large(office):
        if request.method != "POST":
            return render(
                request,
                "imports/export_start.html",
                {
                    "count": None,
                    "label": _("年度总结"),
                    "submission_key": uuid.uuid4(),
                    "back": "reports:annual",
                },
            )
        job = exports.start_export(
            builder="reports.annual.export_job",
            params={"office": office.code, "year": year},
            label=_("%(office)s%(year)s年度总结") % {"office": office.name, "year": year},
            filename=annual.filename(office, year),
            user=request.user,
            submission_key=exports.parse_key(request.POST.get("submission_key")),
        )
        if job is None:
            raise PermissionDenied
        return redirect("imports:export_detail", pk=job.pk)
    content = annual.workbook_bytes(annual.summary(office, year))
    return _attachment(content, annual.filename(office, year), XLSX)
