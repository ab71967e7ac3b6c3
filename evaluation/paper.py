"""Paper ballots (纸质评议表): a per-village workbook with one row per sampled household, drop-downs
for the answers and locked key columns, and the import of a filled sheet, all or nothing.

The sheet is written through shuanglian/lib/excel.py (formula escaping). Reading goes through
python-calamine, which reads a workbook whatever wrote it (Excel, WPS, LibreOffice, a sheet
without openpyxl's styles); columns are found by their header text, so moved columns still read.
Every filled row meets the phone page's checks (services.clean_answers, the window, the collector);
one bad cell refuses the whole sheet, and each message names the row and the column.
"""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineError, CalamineWorkbook

from shuanglian.access import can_write
from shuanglian.lib.excel import new_workbook, put, workbook_bytes_of

from .models import Ballot, Question, Round, SampledHousehold
from .services import clean_answers, insert_ballot

SAMPLE, HOUSEHOLD, GROUP, CADRE, COLLECTOR, MODE, DAY = (
    "样本编号",
    "户主",
    "组",
    "帮扶干部",
    "采集员",
    "采集方式",
    "采集日期",
)
KEY_COLUMNS = [SAMPLE, HOUSEHOLD, GROUP, CADRE, COLLECTOR]
NOTE = "（说明）"
SEPARATORS = re.compile(r"[、,，;；/\s]+")
MAX_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED = 64 * 1024 * 1024
MAX_ERRORS = 200
_HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
_OPEN = Protection(locked=False)


def answer_columns(questions) -> list[tuple[str, Question, bool]]:
    """(header, question, is the explanation column) for every answer column, in order."""
    columns = []
    for question in questions:
        columns.append((question.text, question, False))
        if question.allow_text or question.text_required_for:
            columns.append((question.text + NOTE, question, True))
    return columns


def village_samples(round_: Round, user, village_id: str):
    return (
        SampledHousehold.objects.visible_to(user)
        .in_sample()
        .filter(round=round_, household__village_id=village_id)
        .select_related("household", "cadre", "collector")
        .order_by("household__group", "household__head_name", "pk")
    )


def sheet_bytes(round_: Round, village, samples) -> bytes:
    """The village's paper sheet: key columns locked, the answer cells open, drop-downs for choices."""
    questions = list(round_.questions.all())
    columns = answer_columns(questions)
    headers = KEY_COLUMNS + [MODE, DAY] + [header for header, _q, _n in columns]
    book = new_workbook(write_only=False)
    sheet = book.active
    sheet.title = "评议表"
    for index, header in enumerate(headers, start=1):
        written = put(sheet, 1, index, header)
        written.font, written.fill = Font(bold=True), _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(36, len(header) * 2 + 2))
    samples = list(samples)
    last = max(2, len(samples) + 1)
    for row, sample in enumerate(samples, start=2):
        key = [sample.pk, sample.household.head_name, sample.household.group, sample.cadre.name]
        key.append(sample.collector.name if sample.collector else "")
        for index, value in enumerate(key, start=1):
            put(sheet, row, index, value)
        for index in range(len(KEY_COLUMNS) + 1, len(headers) + 1):
            put(sheet, row, index, None).protection = _OPEN
        sheet.cell(row, len(KEY_COLUMNS) + 2).number_format = "yyyy-mm-dd"
    _validate(
        sheet,
        f"{get_column_letter(len(KEY_COLUMNS) + 1)}2:{get_column_letter(len(KEY_COLUMNS) + 1)}{last}",
        [v for v, _label in Ballot.Mode.choices],
        MODE,
    )
    day_column = get_column_letter(len(KEY_COLUMNS) + 2)
    dates = DataValidation(
        type="date",
        operator="between",
        formula1=f"DATE({round_.starts_on.year},{round_.starts_on.month},{round_.starts_on.day})",
        formula2=f"DATE({round_.ends_on.year},{round_.ends_on.month},{round_.ends_on.day})",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=DAY,
        error=f"采集日期须在 {round_.starts_on} 至 {round_.ends_on} 之间",
    )
    dates.add(f"{day_column}2:{day_column}{last}")
    sheet.add_data_validation(dates)
    for offset, (header, question, is_note) in enumerate(columns):
        letter = get_column_letter(len(KEY_COLUMNS) + 3 + offset)
        if question.kind == Question.Kind.SINGLE and not is_note:
            _validate(sheet, f"{letter}2:{letter}{last}", question.values, header)
        elif question.kind == Question.Kind.MULTIPLE and not is_note:
            hint = DataValidation(allow_blank=True, showInputMessage=True, promptTitle=header[:32])
            hint.prompt = ("可选多项，用“、”分隔：" + "、".join(question.values))[:255]
            hint.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(hint)
    sheet.freeze_panes = "C2"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widening a column stays possible
    notes = book.create_sheet("填表说明")
    lines = [
        f"{round_.name}（{round_.region.name}，{round_.year}年{round_.get_period_display()}）",
        f"村：{village.name}；收集时间 {round_.starts_on} 至 {round_.ends_on}",
        "每行一户：选择采集方式（入户或电话），填写采集日期，逐题选择答案。",
        "未评议的户整行留空；多选题用“、”分隔；选“有”违反“八个不准”须在说明栏写明具体情况。",
        "前五列（样本编号、户主、组、帮扶干部、采集员）已锁定，请勿改动。",
        "导入时整表检查：任何一格有误，整表不导入，并逐条指出行号和列名。",
    ]
    for row, line in enumerate(lines, start=1):
        put(notes, row, 1, line)
    return workbook_bytes_of(book)


def _validate(sheet, cells: str, values: list[str], title: str) -> None:
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(values) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title[:32],
        error=("请从下拉列表中选择：" + "、".join(values))[:255],
    )
    validation.add(cells)
    sheet.add_data_validation(validation)


# --- Import ----------------------------------------------------------------------------------------


@dataclass
class PaperResult:
    created: int = 0
    unchanged: int = 0
    blank: int = 0
    errors: list[str] = field(default_factory=list)


class SheetRefused(Exception):
    """The file as a whole cannot be taken; the message is for the user."""


def read_rows(data: bytes) -> tuple[int, list[str], list[tuple[int, list]]]:
    """The first sheet with a 样本编号 header: (header row number, headers, [(row number, cells)])."""
    if len(data) > MAX_BYTES:
        raise SheetRefused(_("文件超过 5 MB，纸质评议表不会这么大，请检查是否选错了文件。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED:
                raise SheetRefused(_("工作簿解压后过大，已拒绝。"))
    except zipfile.BadZipFile:
        raise SheetRefused(_("文件不是 Excel 工作簿（.xlsx），请上传下载的纸质评议表。")) from None
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for index, row in enumerate(rows[:10]):
                headers = [_text(value) for value in row]
                if SAMPLE in headers:
                    return (
                        index + 1,
                        headers,
                        [(index + 2 + n, list(r)) for n, r in enumerate(rows[index + 1 :])],
                    )
    except (CalamineError, ValueError) as error:
        raise SheetRefused(_("无法读取该工作簿：%(e)s") % {"e": str(error)[:200]}) from None
    raise SheetRefused(_("没有找到表头“样本编号”：请使用本轮下载的纸质评议表。"))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # The writer puts an apostrophe before formula-like text; a leading one is never an answer.
    return text[1:] if text.startswith("'") else text


def _day(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and 1 < value < 100000:  # an Excel serial day
        return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value))
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+.*)?", _text(value))
    if match:
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            return None
    return None


def import_sheet(*, by, round_: Round, data: bytes) -> PaperResult:
    """Record the ballots of a filled paper sheet, all or nothing: the result's errors name row and
    column, and when there is one nothing is written. Importing the same sheet again adds nothing."""
    if not can_write(by, Round):
        raise PermissionDenied
    if not Round.objects.managed_by(by).filter(pk=round_.pk).exists():
        raise PermissionDenied
    result = PaperResult()
    if not round_.is_open:
        result.errors.append(_("本轮评议已结束，不能再导入评议票。"))
        return result
    try:
        _header_row, headers, rows = read_rows(data)
    except SheetRefused as refusal:
        result.errors.append(str(refusal))
        return result
    questions = list(round_.questions.all())
    columns = answer_columns(questions)
    wanted = [SAMPLE, MODE, DAY] + [header for header, _q, _n in columns]
    missing = [header for header in wanted if header not in headers]
    if missing:
        result.errors.append(
            _("表头缺少“%(cols)s”：请使用本轮下载的纸质评议表（问卷改过后须重新下载）。")
            % {"cols": "”“".join(missing)}
        )
        return result
    position = {header: headers.index(header) for header in wanted}
    samples = {
        s.pk: s
        for s in SampledHousehold.objects.visible_to(by)
        .filter(round=round_)
        .select_related("round", "household", "collector")
    }
    existing = {b.sample_id: b for b in Ballot.objects.filter(round=round_)}
    seen, ready = {}, []
    for number, cells in rows:
        values = {header: cells[index] if index < len(cells) else None for header, index in position.items()}
        if all(_text(values[h]) == "" for h in wanted if h != SAMPLE):
            result.blank += 1
            continue
        errors = []

        def fail(column, message, number=number, errors=errors):
            errors.append(_("第%(row)s行“%(col)s”：%(msg)s") % {"row": number, "col": column, "msg": message})

        sample_text = _text(values[SAMPLE])
        sample = samples.get(int(sample_text)) if sample_text.isdigit() else None
        if sample is None:
            fail(SAMPLE, _("“%(v)s”不是本轮本辖区的样本户编号。") % {"v": sample_text or "（空）"})
        elif sample.pk in seen:
            fail(SAMPLE, _("与第%(row)s行重复，一户只能有一张评议票。") % {"row": seen[sample.pk]})
        elif sample.status == SampledHousehold.Status.UNREACHABLE:
            fail(SAMPLE, _("该户已登记为无法联系，不能再提交评议票。"))
        elif sample.collector is None:
            fail(SAMPLE, _("该户尚未指派采集员，请先在评议页面指派后再导入。"))
        elif sample.collector.unit_id and sample.collector.unit_id == sample.cadre_unit_id:
            fail(SAMPLE, _("采集员不能评议本单位干部。"))
        if sample is not None:
            seen.setdefault(sample.pk, number)
        mode = _text(values[MODE])
        if mode not in Ballot.Mode.values:
            fail(MODE, _("“%(v)s”不是可选的采集方式（入户、电话）。") % {"v": mode or "（空）"})
        day = _day(values[DAY])
        if day is None:
            fail(DAY, _("“%(v)s”不是日期，请写成 2026-05-01。") % {"v": _text(values[DAY]) or "（空）"})
        elif not round_.starts_on <= day <= min(round_.ends_on, timezone.localdate()):
            fail(
                DAY,
                _("%(d)s 不在本轮收集时间内（%(s)s至%(e)s），也不能晚于今天。")
                % {"d": day, "s": round_.starts_on, "e": round_.ends_on},
            )
        answers = {}
        for header, question, is_note in columns:
            text = _text(values[header])
            if is_note:
                answers[f"{question.code}__text"] = text
            elif question.kind == Question.Kind.MULTIPLE:
                answers[question.code] = [v for v in SEPARATORS.split(text) if v]
            else:
                answers[question.code] = text
        cleaned = {}
        for header, question, is_note in columns:
            if is_note:
                continue
            try:
                cleaned.update(clean_answers([question], answers))
            except ValidationError as refusal:
                fail(header, " ".join(refusal.messages))
        if not errors and sample is not None and sample.pk in existing:
            earlier = existing[sample.pk]
            if earlier.answers == cleaned and earlier.mode == mode:
                result.unchanged += 1
                continue
            fail(
                SAMPLE,
                _("%(h)s本轮已有评议票，不能重复提交；如需更正，请联系双联办。") % {"h": sample.household},
            )
        result.errors += errors
        if not errors:
            ready.append((sample, mode, day, cleaned))
        if len(result.errors) >= MAX_ERRORS:
            result.errors.append(_("错误过多，仅列出前 %(n)s 条。") % {"n": MAX_ERRORS})
            break
    if result.errors:
        return result
    with transaction.atomic():
        Round.objects.select_for_update().filter(pk=round_.pk).first()
        noon = datetime.time(12)
        for sample, mode, day, cleaned in ready:
            _ballot, created = insert_ballot(
                sample=sample,
                collector=sample.collector,
                collected_at=timezone.make_aware(datetime.datetime.combine(day, noon)),
                mode=mode,
                answers=cleaned,
                source=Ballot.Source.PAPER,
            )
            result.created += int(created)
            result.unchanged += int(not created)
    return result
