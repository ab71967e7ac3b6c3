"""An inspection's report: progress, the share of confirmed visits per township and unit, findings;
as a print page and as a .docx (python-docx)."""

import io

from django.db.models import Count, Q

from .models import Inspection, SampledVisit

Result = SampledVisit.Result


def _figures():
    return {
        "total": Count("pk"),
        "checked": Count("pk", filter=~Q(result="")),
        "confirmed": Count("pk", filter=Q(result=Result.CONFIRMED)),
        "not_as_recorded": Count("pk", filter=Q(result=Result.NOT_AS_RECORDED)),
        "unreachable": Count("pk", filter=Q(result=Result.UNREACHABLE)),
    }


def _share(row: dict) -> dict:
    """属实率: confirmed among the visits reached (an unreachable household says nothing either way)."""
    reached = row["confirmed"] + row["not_as_recorded"]
    row["share"] = round(100 * row["confirmed"] / reached, 1) if reached else None
    return row


def progress(inspection: Inspection) -> dict:
    return _share(inspection.samples.order_by().aggregate(**_figures()))


def summary(inspection: Inspection) -> dict:
    samples = inspection.samples.order_by()
    townships = [
        _share(row)
        for row in samples.values("township_id", "township__name")
        .annotate(**_figures())
        .order_by("township_id")
    ]
    units = [
        _share(row)
        for row in samples.values("unit_id", "unit__name").annotate(**_figures()).order_by("unit__name")
    ]
    findings = list(inspection.findings.prefetch_related("rectifications__township", "rectifications__unit"))
    return {
        "total": progress(inspection),
        "by_township": townships,
        "by_unit": units,
        "findings": findings,
        "not_as_recorded": list(
            inspection.samples.filter(result=Result.NOT_AS_RECORDED).select_related(
                "visit__cadre", "visit__household__village"
            )
        ),
    }


def _percent(value) -> str:
    return "—" if value is None else f"{value}%"


def docx(inspection: Inspection) -> bytes:
    from docx import Document

    data = summary(inspection)
    document = Document()
    document.add_heading(f"{inspection.name} 督查报告", level=1)
    document.add_paragraph(
        f"督查时间：{inspection.starts_on} 至 {inspection.ends_on}；检查内容：{inspection.checks}；"
        f"抽查 {inspection.visits_from} 至 {inspection.visits_to} 的走访记录，"
        f"每名干部 {inspection.per_cadre} 条，"
        f"随机种子 {inspection.seed}。"
    )
    total = data["total"]
    document.add_paragraph(
        f"共抽查 {total['total']} 条，已核查 {total['checked']} 条：属实 {total['confirmed']} 条，"
        f"与记录不符 {total['not_as_recorded']} 条，无法联系 {total['unreachable']} 条；"
        f"属实率 {_percent(total['share'])}。"
    )
    for title, rows, name in (
        ("分乡镇", data["by_township"], "township__name"),
        ("分单位", data["by_unit"], "unit__name"),
    ):
        document.add_heading(title, level=2)
        table = document.add_table(rows=1, cols=6)
        for cell, text in zip(
            table.rows[0].cells, ("名称", "抽查", "已核查", "属实", "不符", "属实率"), strict=True
        ):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            values = (row[name], row["total"], row["checked"], row["confirmed"], row["not_as_recorded"])
            for cell, value in zip(cells, values, strict=False):
                cell.text = str(value)
            cells[5].text = _percent(row["share"])
    document.add_heading("发现的问题及整改", level=2)
    if not data["findings"]:
        document.add_paragraph("未发现问题。")
    for index, finding in enumerate(data["findings"], start=1):
        document.add_paragraph(f"{index}. {finding.text}")
        for item in finding.rectifications.all():
            document.add_paragraph(
                f"整改：{item.responsible}，{item.requirement}，"
                f"期限 {item.due_on}，{item.get_status_display()}"
                + (f"；整改情况：{item.answer}" if item.answer else ""),
                style="List Bullet",
            )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
