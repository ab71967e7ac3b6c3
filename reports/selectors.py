"""The reads of the report pages, the status board, the command and the to-do list."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shuanglian.lib import dates, excel

from . import figures as report_figures
from .models import MonthlyReport, ReportAction
from .offices import Office, children, due_date, due_days, may_review, may_write, office_of, reviewing_office

Status = MonthlyReport.Status
MISSING = "missing"
STATUS_LABELS = {MISSING: gettext_lazy("未起草"), **dict(Status.choices)}
# Reports not yet with the office above: they count as overdue once their due date has passed.
PENDING = {MISSING, Status.DRAFT, Status.RETURNED}


def last_month(today: datetime.date) -> datetime.date:
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def recent_months(today: datetime.date, count: int = 12) -> list[datetime.date]:
    """This month and the ones before it, newest first, never before the campaign's first month."""
    months, month = [], today.replace(day=1)
    floor = dates.floor().replace(day=1)
    while len(months) < count and month >= floor:
        months.append(month)
        month = last_month(month)
    return months


def reports_for(user):
    """The reports `user` may see (MonthlyReport.objects.visible_to); the command (None) sees all."""
    return MonthlyReport.objects.all() if user is None else MonthlyReport.objects.visible_to(user)


def report_of(office: Office, month: datetime.date, user) -> MonthlyReport | None:
    found = reports_for(user).filter(month=month, **office.filter())
    return found.select_related("created_by").first()


def is_overdue(status: str, due: datetime.date | None, today: datetime.date) -> bool:
    return due is not None and status in PENDING and today > due


def own_months(office: Office, today: datetime.date, user) -> list[dict]:
    """The office's reports over the recent months, with their due dates (one query for the reports)."""
    months = recent_months(today)
    reports = {r.month: r for r in reports_for(user).filter(month__in=months, **office.filter())}
    days = due_days()
    rows = []
    for month in months:
        report = reports.get(month)
        status = report.status if report else MISSING
        due = due_date(office, month, days)
        rows.append(
            {
                "month": month,
                "report": report,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "due": due,
                "overdue": is_overdue(status, due, today),
                "url": reverse("reports:detail", args=[office.key, month.year, month.month]),
            }
        )
    return rows


@dataclass
class Line:
    """One figure of the report as the page shows it."""

    key: str
    name: str
    definition: str
    unit: str
    month: object
    year: object = None
    current_month: object = None  # the figure as counted now, where it changed since approval
    current_year: object = None
    in_year: bool = False
    changed: bool = False


def _lines(shown: dict, current: dict | None) -> list[Line]:
    names = report_figures.names()
    lines = []
    for key in report_figures.PRESENT + report_figures.MONTH:
        name, definition, unit = names[key]
        line = Line(
            key,
            name,
            definition,
            unit,
            shown["month"].get(key),
            shown.get("year", {}).get(key),
            in_year=key in report_figures.YEAR,
        )
        if current is not None:
            line.current_month = current["month"].get(key)
            line.current_year = current.get("year", {}).get(key)
            line.changed = line.current_month != line.month or (
                line.in_year and line.current_year != line.year
            )
        lines.append(line)
    return lines


def _actor(report: MonthlyReport | None, kind: str):
    """Who took the report's latest step of this kind (填报人: submitted; 审核人: approved)."""
    if report is None:
        return None
    for action in reversed(report.steps):
        if action.kind == kind:
            return action
    return None


def report_page(office: Office, month: datetime.date, user) -> dict:
    """Everything the report's page, print view and workbook show."""
    report = report_of(office, month, user)
    if report is not None:
        steps = ReportAction.objects.all() if user is None else ReportAction.objects.visible_to(user)
        report.steps = list(steps.filter(report=report).select_related("by"))
    approved = report is not None and report.status == Status.APPROVED and report.figures
    current = report_figures.compute(office, month)
    shown = report.figures if approved else current
    lines = _lines(shown, current if approved else None)
    row_names = report_figures.names()
    region_keys, unit_keys = report_figures.REGION_ROW, report_figures.UNIT_ROW
    region_rows = [
        row | {"cells": [(row_names[key][0], row["values"].get(key)) for key in region_keys]}
        for row in shown["rows"]
        if row["kind"] == "region"
    ]
    unit_rows = [
        row | {"cells": [(row_names[key][0], row["values"].get(key)) for key in unit_keys]}
        for row in shown["rows"]
        if row["kind"] == "unit"
    ]
    totals = report_figures.row_totals(shown)
    status = report.status if report else MISSING
    due = due_date(office, month)
    writable = user is not None and may_write(user, office)
    reviewer = user is not None and may_review(user, office)
    return {
        "office": office,
        "month": month,
        "report": report,
        "status": status,
        "status_label": STATUS_LABELS[status],
        "lines": lines,
        "approved": approved,
        "changed": approved and any(line.changed for line in lines),
        "region_rows": region_rows,
        "unit_rows": unit_rows,
        "region_columns": [(key, row_names[key][0]) for key in report_figures.REGION_ROW],
        "unit_columns": [(key, row_names[key][0]) for key in report_figures.UNIT_ROW],
        "row_totals": totals,
        "total_cells": [(row_names[key][0], totals.get(key)) for key in region_keys],
        "total_values": shown["month"],
        "computed_at": shown.get("computed_at"),
        "due": due,
        "may_edit": writable and status in (MISSING, Status.DRAFT, Status.RETURNED),
        "may_submit": writable
        and status in (Status.DRAFT, Status.RETURNED)
        and office.parent_code is not None,
        "may_review": reviewer and status == Status.SUBMITTED,
        "may_reopen": reviewer and status == Status.APPROVED,
        "missing_below": _missing_names(office, month) if writable and status in PENDING else [],
        "submitted": _actor(report, "submit"),
        "approved_by": _actor(report, "approve"),
        "returned": _actor(report, "return") if status == Status.RETURNED else None,
    }


def _missing_names(office: Office, month: datetime.date) -> list[str]:
    if not children(office):
        return []
    from .services import missing_below

    return [child.name for child in missing_below(office, month)]


def _display(value) -> object:
    return "—" if value is None else value


def report_workbook(page: dict) -> bytes:
    """The report as .xlsx: its figures, the rows below with their total, and its text."""
    book = excel.new_workbook()
    sheet = book.create_sheet(_("指标"))
    office, month = page["office"], page["month"]
    excel.append(sheet, [excel.cell(sheet, f"{office.name}{month.year}年{month.month}月月报告", bold=True)])
    excel.append(sheet, [_("状态"), page["status_label"]])
    headers = [_("指标"), _("本月"), _("本年累计"), _("单位"), _("说明")]
    if page["changed"]:
        headers[3:3] = [_("当前本月"), _("当前本年累计")]
    excel.append(sheet, [excel.cell(sheet, h, bold=True) for h in headers])
    for line in page["lines"]:
        row = [line.name, _display(line.month), _display(line.year) if line.in_year else ""]
        if page["changed"]:
            row += [_display(line.current_month), _display(line.current_year) if line.in_year else ""]
        excel.append(sheet, row + [line.unit, line.definition])
    if page["region_rows"]:
        sheet = book.create_sheet(_("下级"))
        excel.append(
            sheet,
            [excel.cell(sheet, h, bold=True) for h in [_("区域")] + [n for _k, n in page["region_columns"]]],
        )
        for row in page["region_rows"]:
            excel.append(sheet, [row["name"]] + [_display(v) for _label, v in row["cells"]])
        excel.append(sheet, [_("合计")] + [_display(v) for _label, v in page["total_cells"]])
    if page["unit_rows"]:
        sheet = book.create_sheet(_("帮扶单位"))
        excel.append(
            sheet,
            [excel.cell(sheet, h, bold=True) for h in [_("单位")] + [n for _k, n in page["unit_columns"]]],
        )
        for row in page["unit_rows"]:
            excel.append(sheet, [row["name"]] + [_display(v) for _label, v in row["cells"]])
    sheet = book.create_sheet(_("文字"))
    report = page["report"]
    for name in ("work_done", "experience", "problems", "next_month"):
        label = MonthlyReport._meta.get_field(name).verbose_name
        excel.append(
            sheet, [excel.cell(sheet, str(label), bold=True), getattr(report, name, "") if report else ""]
        )
    return excel.workbook_bytes_of(book)


# --- The status board (报送情况) ------------------------------------------------------------------


def board(office: Office, month: datetime.date, today: datetime.date, user=None) -> dict:
    """The month's report of every office below `office`: status, due date, overdue, a link. Two
    queries: the offices below (regions, units) and their reports."""
    below = children(office)
    regions = [child.region for child in below if child.region]
    units = [child.unit for child in below if child.unit]
    reports = reports_for(user).filter(month=month).filter(Q(region__in=regions) | Q(unit__in=units))
    by_office = {(r.region_id or f"u{r.unit_id}"): r for r in reports}
    days = due_days()
    rows = []
    counts = dict.fromkeys([MISSING, *Status.values], 0) | {"overdue": 0}
    for child in below:
        report = by_office.get(child.key)
        status = report.status if report else MISSING
        due = due_date(child, month, days)
        overdue = is_overdue(status, due, today)
        counts[status] += 1
        counts["overdue"] += overdue
        rows.append(
            {
                "office": child,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "due": due,
                "overdue": overdue,
                "updated_at": report.updated_at if report else None,
                "url": reverse("reports:detail", args=[child.key, month.year, month.month]),
            }
        )
    return {
        "office": office,
        "month": month,
        "rows": rows,
        "counts": [(STATUS_LABELS[key], counts[key]) for key in [MISSING, *Status.values]],
        "overdue_count": counts["overdue"],
        "total": len(rows),
    }


BOARD_HEADERS = [gettext_lazy(h) for h in ("报告单位", "层级", "状态", "截止日期", "是否逾期", "最后更新")]


def board_rows(board: dict):
    levels = {"township": _("乡镇"), "county": _("县"), "city": _("市"), "unit": _("单位")}
    for row in board["rows"]:
        yield [
            row["office"].name,
            levels.get(row["office"].level, ""),
            row["status_label"],
            row["due"],
            _("逾期") if row["overdue"] else "",
            row["updated_at"].strftime("%Y-%m-%d %H:%M") if row["updated_at"] else "",
        ]


# --- What is due (the home page's and the inbox's to-do items) -------------------------------------


def due_counts(user, today: datetime.date) -> dict:
    """Last month's report of the user's own office if not yet submitted (and whether it is overdue),
    and, for a reviewing office, the reports below waiting for review and those overdue."""
    month = last_month(today)
    found = {"month": month, "own": None, "own_overdue": False, "to_review": 0, "overdue_below": 0}
    office = office_of(user)
    if office is not None and office.parent_code is not None and month >= dates.floor().replace(day=1):
        report = reports_for(user).filter(month=month, **office.filter()).only("status").first()
        status = report.status if report else MISSING
        if status in PENDING:
            found["own"] = office
            found["own_overdue"] = is_overdue(status, due_date(office, month), today)
    reviewing = reviewing_office(user)
    if reviewing is not None:
        counted = board(reviewing, month, today, user)
        found["to_review"] = dict(counted["counts"])[STATUS_LABELS[Status.SUBMITTED]]
        found["overdue_below"] = counted["overdue_count"]
        found["board"] = reviewing
    return found
