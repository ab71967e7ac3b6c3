"""Monthly report pages: thin, each parses the office and month, calls a selector or a service, renders."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shuanglian.lib import dates, excel, params

from . import selectors, services
from .forms import ReportTextForm, StepForm
from .offices import may_review, may_write, office_of, reviewing_office, visible_office


def _month(year: int, month: int) -> datetime.date:
    """The report month a URL names: from the campaign's first month to this month, else 404."""
    if not 1 <= month <= 12:
        raise Http404
    day = datetime.date(year, month, 1)
    floor, today = dates.floor(), timezone.localdate()
    if not floor.replace(day=1) <= day <= today.replace(day=1):
        raise Http404
    return day


def _page_month(request) -> datetime.date:
    """?month=YYYY-MM, else last month (the one being reported on)."""
    parsed = params.parse_month(request.GET.get("month"))
    if parsed:
        return datetime.date(*parsed, 1)
    return selectors.last_month(timezone.localdate())


@login_required
def index(request):
    """报告: the user's own monthly reports, month by month, and the way to the status board."""
    user = request.user
    office = office_of(user)
    context = {
        "office": office,
        "months": selectors.own_months(office, timezone.localdate(), user) if office else [],
        "board": reviewing_office(user),
    }
    return render(request, "reports/index.html", context)


@login_required
def detail(request, office, year, month):
    office = visible_office(request.user, office)
    month = _month(year, month)
    page = selectors.report_page(office, month, request.user)
    report = page["report"]
    form = ReportTextForm(
        initial={name: getattr(report, name) for name in services.TEXT_FIELDS} | {"version": report.version}
        if report
        else None
    )
    return render(request, "reports/detail.html", page | {"form": form, "step_form": StepForm()})


@require_POST
@login_required
def save(request, office, year, month):
    office = visible_office(request.user, office)
    month = _month(year, month)
    if not may_write(request.user, office):
        raise PermissionDenied
    form = ReportTextForm(request.POST)
    if form.is_valid():
        texts = {name: form.cleaned_data[name] for name in services.TEXT_FIELDS}
        try:
            services.save_report(
                office=office, month=month, by=request.user, texts=texts, seen=form.cleaned_data["version"]
            )
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, _("已保存"))
    else:
        messages.error(
            request,
            "；".join(f"{form[name].label}：{'；'.join(errors)}" for name, errors in form.errors.items()),
        )
    return redirect("reports:detail", office=office.key, year=month.year, month=month.month)


@dataclass(frozen=True)
class Step:
    """A workflow step's page action: who may take it, the service that takes it (with the form's
    text under the service's own name for it), and the message on success."""

    allowed: Callable  # (user, office) -> bool: the office itself, or the office above
    run: Callable  # services.submit_report, …
    text_name: str  # the service's keyword for the form's text
    done: str


STEPS = {
    "submit": Step(may_write, services.submit_report, "missing_note", gettext_lazy("已报送")),
    "return": Step(may_review, services.return_report, "comment", gettext_lazy("已退回")),
    "approve": Step(
        may_review, services.approve_report, "comment", gettext_lazy("已审核通过，该月数据已冻结并锁定")
    ),
    "reopen": Step(may_review, services.reopen_report, "reason", gettext_lazy("已重新打开，该月已解锁")),
}


def _step_view(name: str):
    """One POST view per step, all of one shape: the office (404 outside the scope), the role
    (403), the report and the page's version; a repeated press lands on the report unchanged."""
    step = STEPS[name]

    @require_POST
    @login_required
    def view(request, office, year, month):
        office = visible_office(request.user, office)
        if not step.allowed(request.user, office):
            raise PermissionDenied
        month = _month(year, month)
        report = selectors.report_of(office, month, request.user)
        form = StepForm(request.POST)
        form.is_valid()
        text = form.cleaned_data.get("text", "")
        try:
            if report is None:
                raise ValidationError(_("该月报告尚未起草"))
            step.run(
                report=report,
                by=request.user,
                seen=form.cleaned_data.get("version"),
                **{step.text_name: text},
            )
        except services.AlreadyDone:
            messages.info(request, _("已办理，重复的提交未再办理"))
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, str(step.done))
        return redirect("reports:detail", office=office.key, year=month.year, month=month.month)

    view.__name__ = view.__qualname__ = "return_" if name == "return" else name  # the URLconf's names
    return view


submit = _step_view("submit")
return_ = _step_view("return")
approve = _step_view("approve")
reopen = _step_view("reopen")


@login_required
def print_view(request, office, year, month):
    office = visible_office(request.user, office)
    month = _month(year, month)
    page = selectors.report_page(office, month, request.user)
    return render(request, "reports/print.html", page | {"printed_on": timezone.localdate()})


@login_required
def xlsx(request, office, year, month):
    office = visible_office(request.user, office)
    month = _month(year, month)
    page = selectors.report_page(office, month, request.user)
    data = selectors.report_workbook(page)
    response = HttpResponse(data, content_type=excel.XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(f'{office.name}{month:%Y-%m}月报告.xlsx')}"
    )
    return response


def _board_office(request):
    office = reviewing_office(request.user)
    if office is None:
        raise PermissionDenied  # a township or a unit reviews nobody's reports
    return office


@login_required
def board(request):
    """报送情况: the reports of the offices below for a month, with counts by status."""
    office = _board_office(request)
    month = _page_month(request)
    context = selectors.board(office, month, timezone.localdate(), request.user) | {
        "months": selectors.recent_months(timezone.localdate())
    }
    return render(request, "reports/board.html", context)


@login_required
def board_xlsx(request):
    office = _board_office(request)
    month = _page_month(request)
    board = selectors.board(office, month, timezone.localdate(), request.user)
    return excel.xlsx_response(
        f"报送情况-{month:%Y-%m}.xlsx", _("报送情况"), selectors.BOARD_HEADERS, selectors.board_rows(board)
    )
