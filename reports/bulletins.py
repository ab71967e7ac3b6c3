"""Bulletins (通报): drafted from the quarter's ranking, edited by the office, issued with a number,
read by the offices below; and the bulletin as a .docx in the usual government layout.

Every step is a service here: keyword-only, one transaction, safe to press twice (a draft carries a
submission key; issuing and marking read are conditional updates that match once).
"""

import io
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Region
from shuanglian.access import LEVEL_DIGITS, OFFICE_ROLES, is_unit_liaison, scope_prefix
from shuanglian.lib.history import acting, recorded

from . import dispatch
from .dispatch import Quarter
from .models import Bulletin, BulletinRecipient, MonthlyReport

# The offices that rank and issue bulletins (the superuser acts as the province).
ISSUING_ROLES = OFFICE_ROLES


def office_of(user) -> Region | None:
    """The issuing office's region for a user who may dispatch, else None."""
    if user.is_superuser:
        return Region.objects.filter(level="province").order_by("code").first()
    if getattr(user, "role", None) in ISSUING_ROLES and user.region_id:
        return user.region
    return None


def office_name(region: Region) -> str:
    """The office's name as the headline prints it."""
    return _("%(region)s联村联户为民富民行动领导小组办公室") % {"region": region.name}


def _prefix(region: Region) -> str:
    return region.code[: LEVEL_DIGITS[region.level]]


def _months(quarter: Quarter):
    first = 3 * quarter.number - 2
    return [quarter.period.start.replace(month=month) for month in range(first, first + 3)]


def _approved_reports(region: Region, quarter: Quarter, rankings):
    """The approved monthly reports of the quarter by the offices and units ranked."""
    regions = [row.key.ljust(12, "0") for ranking in rankings for row in ranking.rows if row.kind == "region"]
    units = [int(row.key[5:]) for ranking in rankings for row in ranking.rows if row.kind == "unit"]
    return (
        MonthlyReport.objects.filter(
            Q(region_id__in=regions) | Q(unit_id__in=units),
            month__in=_months(quarter),
            status=MonthlyReport.Status.APPROVED,
        )
        .select_related("region", "unit")
        .order_by("region_id", "unit_id", "month")
    )


def _office(report: MonthlyReport) -> str:
    return report.region.name if report.region_id else report.unit.name


def draft_text(region: Region, quarter: Quarter, rankings) -> dict:
    """The draft's text: experiences from the approved reports' 经验做法, problems from their 存在问题
    and from the ranking's last places."""
    reports = list(_approved_reports(region, quarter, rankings))
    experiences = [f"【{_office(r)}】{r.experience.strip()}" for r in reports if r.experience.strip()]
    problems = [f"【{_office(r)}】{r.problems.strip()}" for r in reports if r.problems.strip()]
    names = {ind.key: str(ind.short) for ind in dispatch.RANKING}
    for ranking in rankings:
        for row in ranking.rows:
            if not row.last:
                continue
            weak = [
                f"{names[key]}{value}%"
                for key, value in sorted(row.rates.items(), key=lambda item: item[1] or 0)
                if value is not None
            ][:2]
            problems.append(
                _("%(name)s排名靠后（第%(rank)s名，%(weak)s）")
                % {"name": row.name, "rank": row.rank, "weak": "，".join(weak)}
            )
    opening = _("现将%(quarter)s全%(scope)s联村联户为民富民行动工作调度情况通报如下。排名规则：%(rule)s") % {
        "quarter": quarter.label,
        "scope": _scope_word(region),
        "rule": dispatch.RULE,
    }
    return {
        "title": _("关于%(quarter)s联村联户工作调度情况的通报") % {"quarter": quarter.label},
        "opening": opening,
        "experiences": "\n".join(experiences),
        "problems": "\n".join(problems),
        "requirements": _("请各地各单位对照排名查找差距，排名后五位的于下季度首月10日前报送整改情况。"),
    }


def _scope_word(region: Region) -> str:
    return {"province": _("省"), "city": _("市"), "county": _("县")}.get(region.level, "")


def _recipients(rankings) -> list[BulletinRecipient]:
    recipients = []
    for ranking in rankings:
        for row in ranking.rows:
            if row.kind == "region":
                recipients.append(BulletinRecipient(region_id=row.key.ljust(12, "0")))
            else:
                recipients.append(BulletinRecipient(unit_id=int(row.key[5:])))
    return recipients


@recorded
def draft_bulletin(
    *, region: Region, quarter: Quarter, by, submission_key: uuid.UUID | None = None
) -> Bulletin:
    """A draft from the quarter's ranking (frozen into the bulletin) and the reports' texts.

    The same submission key twice gives the first draft back (a double click drafts once)."""
    if submission_key is not None:
        earlier = Bulletin.objects.filter(submission_key=submission_key).first()
        if earlier is not None:
            if earlier.region_id != region.code:
                raise PermissionDenied
            return earlier
    rankings = dispatch.rankings(_prefix(region), region.level, quarter)
    text = draft_text(region, quarter, rankings)
    try:
        with transaction.atomic(), acting(by):
            bulletin = Bulletin.objects.create(
                region=region,
                year=quarter.year,
                quarter=quarter.number,
                ranking=[
                    {"title": ranking.title, "rows": [row.as_dict() for row in ranking.rows]}
                    for ranking in rankings
                ],
                created_by=by,
                submission_key=submission_key,
                **text,
            )
            recipients = _recipients(rankings)
            for recipient in recipients:
                recipient.bulletin = bulletin
            BulletinRecipient.objects.bulk_create(recipients)
    except IntegrityError:
        # The other press of a double click inserted first.
        return Bulletin.objects.get(submission_key=submission_key)
    return bulletin


EDITABLE = ("title", "opening", "experiences", "problems", "requirements")


@recorded
def update_bulletin(*, bulletin: Bulletin, by, version: int, **text) -> Bulletin:
    """Save the office's edits of a draft, unless someone saved another edit since `version`."""
    with transaction.atomic(), acting(by):
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status != Bulletin.Status.DRAFT:
            raise ValidationError(_("通报已印发，不能再修改"))
        if locked.version != version:
            raise ValidationError(_("此通报已被他人修改，您的修改未保存，请刷新后重试。"))
        for name in EDITABLE:
            setattr(locked, name, text[name])
        locked.version += 1
        locked.save(update_fields=[*EDITABLE, "version"])
    return locked


@recorded
def issue_bulletin(*, bulletin: Bulletin, number: str, by) -> bool:
    """Issue a draft under a document number. True when this call issued it; False when it was
    already issued (the second press of a double click), which changes nothing."""
    number = number.strip()
    if not number:
        raise ValidationError(_("请填写文号"))
    if Bulletin.objects.filter(region_id=bulletin.region_id, number=number).exclude(pk=bulletin.pk).exists():
        raise ValidationError(_("文号“%(number)s”已用于本单位的另一份通报") % {"number": number})
    with transaction.atomic(), acting(by):
        issued = Bulletin.objects.filter(pk=bulletin.pk, status=Bulletin.Status.DRAFT).update(
            status=Bulletin.Status.ISSUED, number=number, issued_by=by, issued_at=timezone.now()
        )
        if issued:
            bulletin.refresh_from_db()
            bulletin.save(update_fields=["status"])  # a row in the history: who issued it, when
    bulletin.refresh_from_db()
    return bool(issued)


def recipient_for(bulletin: Bulletin, user) -> BulletinRecipient | None:
    """The recipient row the user answers for: its own region's office, or its unit."""
    if is_unit_liaison(user):
        return bulletin.recipients.filter(unit_id=user.unit_id).first()
    prefix = scope_prefix(user)
    if not prefix or user.is_superuser:
        return None
    return bulletin.recipients.filter(region_id=prefix.ljust(12, "0"), region__level=user.role).first()


@recorded
def mark_read(*, bulletin: Bulletin, by) -> bool:
    """The user's office marks an issued bulletin read; a second press changes nothing."""
    recipient = recipient_for(bulletin, by)
    if recipient is None or bulletin.status != Bulletin.Status.ISSUED:
        raise PermissionDenied
    return bool(
        BulletinRecipient.objects.filter(pk=recipient.pk, read_at__isnull=True).update(
            read_at=timezone.now(), read_by=by
        )
    )


# --- The .docx ----------------------------------------------------------------------------------

RED = "C00000"


def _paragraph_rule(paragraph, color: str = RED, size: int = 18) -> None:
    """A line under a paragraph (the red rule under the document number), in the paragraph's borders."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1"), ("w:color", color)):
        bottom.set(qn(name), value)
    borders.append(bottom)
    properties.append(borders)


def _font(run, name: str, size_pt: float, *, bold=False, color: str | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def _text_paragraphs(document, text: str) -> None:
    from docx.shared import Pt

    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(32)  # two characters of 三号
        paragraph.paragraph_format.line_spacing = Pt(28)
        _font(paragraph.add_run(line), "仿宋_GB2312", 16)


def _heading(document, text: str) -> None:
    from docx.shared import Pt

    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(32)
    _font(paragraph.add_run(text), "黑体", 16)


def ranking_columns() -> list[str]:
    return [_("名次"), _("名称"), *[str(ind.short) for ind in dispatch.RANKING], _("综合得分"), _("较上季度")]


def ranking_cells(row: dict) -> list[str]:
    def percent(value):
        return f"{value}%" if value is not None else "—"

    movement = row.get("movement")
    moved = (
        "—"
        if movement is None
        else (f"↑{movement}" if movement > 0 else f"↓{-movement}" if movement < 0 else "—")
    )
    return [
        str(row["rank"]) if row["rank"] is not None else _("未排名"),
        row["name"] + (_("（后五名）") if row.get("last") else ""),
        *[percent(row["rates"].get(ind.key)) for ind in dispatch.RANKING],
        row["score"] if row["score"] is not None else "—",
        moved,
    ]


def docx_bytes(bulletin: Bulletin) -> bytes:
    """The bulletin on A4 in the usual layout: red headline (the office and 通报), the document number
    over a red rule, the title, the text, the ranking tables, the issuing office and date."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    office = office_name(bulletin.region)
    head = document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(head.add_run(_("%(office)s通报") % {"office": office}), "方正小标宋简体", 26, bold=True, color=RED)
    number = document.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.paragraph_format.space_after = Pt(18)
    _font(number.add_run(bulletin.number or _("（未印发）")), "仿宋_GB2312", 16)
    _paragraph_rule(number)

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    _font(title.add_run(bulletin.title), "方正小标宋简体", 22)

    _text_paragraphs(document, bulletin.opening)
    for index, ranking in enumerate(bulletin.ranking, start=1):
        _heading(document, f"{'一二三四五'[index - 1]}、{ranking['title']}")
        columns = ranking_columns()
        table = document.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, label in zip(table.rows[0].cells, columns, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(label), "黑体", 10.5)
        for row in ranking["rows"]:
            cells = table.add_row().cells
            for cell, value in zip(cells, ranking_cells(row), strict=True):
                cell.text = ""
                _font(cell.paragraphs[0].add_run(str(value)), "仿宋_GB2312", 10.5, bold=bool(row.get("last")))
    offset = len(bulletin.ranking)
    for index, (label, text) in enumerate(
        (
            (_("经验做法"), bulletin.experiences),
            (_("存在问题"), bulletin.problems),
            (_("下一步要求"), bulletin.requirements),
        ),
        start=offset + 1,
    ):
        if not text.strip():
            continue
        _heading(document, f"{'一二三四五六七八'[index - 1]}、{label}")
        _text_paragraphs(document, text)

    for line in (office, _date_words(bulletin.issued_at or bulletin.created_at)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(paragraph.add_run(line), "仿宋_GB2312", 16)
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def _date_words(moment) -> str:
    day = timezone.localtime(moment).date()
    return f"{day.year}年{day.month}月{day.day}日"
