"""The row and error machinery every roster kind shares.

Each kind (households, cadres, links, pairings) reads its sheet into rows,
cleans every cell with these parsers, records problems in one Collector (so a
message always names sheet, row, column and value) and returns an ImportResult.
"""

import datetime
import functools
import gc
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.choices import (
    ETHNICITY_CHOICES,
    Category,
    Disability,
    Education,
    Health,
    HouseholdStatus,
    Housing,
    Labour,
    PovertyCause,
    Relation,
    Schooling,
)
from pairing.models import Cadre, Pairing
from shuanglian.lib import dates, idcard

from .headers import ALIASES, LABELS, find_header
from .reader import FileRefused, open_sheets, renamed_text_hint

MAX_ERRORS = 500
CHUNK = 2000  # rows per IN (…) lookup and per bulk statement

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

VOCABULARIES = {
    "category": [c.value for c in Category],
    "main_cause": [c.value for c in PovertyCause],
    "housing": [c.value for c in Housing],
    "status": [c.value for c in HouseholdStatus],
    "relation": [c.value for c in Relation],
    "ethnicity": [value for value, _label in ETHNICITY_CHOICES],
    "education": [c.value for c in Education],
    "schooling": [c.value for c in Schooling],
    "health": [c.value for c in Health],
    "disability": [c.value for c in Disability],
    "labour": [c.value for c in Labour],
    "rank": [c.value for c in Cadre.Rank],
    "cadre_category": [c.value for c in Cadre.Category],
    "cadre_status": [c.value for c in Cadre.Status],
    "role": [c.value for c in Pairing.Role],
}
_ALLOWED = {key: frozenset(values) for key, values in VOCABULARIES.items()}
# (vocabulary, cell as read) → the accepted value. A roster repeats a few dozen values (汉族, 初中,
# 健康 …) in every row: this skips the cleaning, and rows share one string per value instead of
# keeping one per cell alive.
_VALID_CELLS: dict[tuple, str] = {}
_YES = {"是", "有", "√", "✓", "Y", "YES", "1", "参加", "已参加"}
_NO = {"否", "无", "×", "N", "NO", "0", "未参加", "不参加"}


@dataclass
class RowError:
    sheet: str
    row: int
    column: str
    value: str
    message: str

    def __str__(self):
        where = _("工作表“%(sheet)s”第%(row)d行") % {"sheet": self.sheet, "row": self.row}
        if self.column:
            where += _("“%(column)s”列") % {"column": self.column}
        if self.value not in ("", None):
            where += _("（%(value)s）") % {"value": self.value}
        return f"{where}：{self.message}"

    def as_dict(self):
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "text": str(self),
        }


@dataclass
class ImportResult:
    """What a check or an import found; counts use the keys new / changed / unchanged
    (households split them into households_* and members_*)."""

    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    error_count: int = 0
    changes: list = field(default_factory=list)
    added: list = field(default_factory=list)  # the first new rows, described, for the preview
    missing: list = field(default_factory=list)
    rows: int = 0
    applied: bool = False
    created_household_ids: list = field(default_factory=list)
    noun: str = ""  # what one row is, for the summary: 干部, 联村关系, 结对关系
    # People registered outside the uploader's scope (imports/households.py): for the county office's
    # record only, never in as_report(), which the uploader reads.
    register_attempts: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        c = self.counts
        return _("%(noun)s：新增 %(new)d，变更 %(changed)d，未变 %(same)d") % {
            "noun": self.noun,
            "new": c.get("new", 0),
            "changed": c.get("changed", 0),
            "same": c.get("unchanged", 0),
        }

    def as_report(self) -> dict:
        return {
            "counts": self.counts,
            "error_count": self.error_count,
            "errors": [e.as_dict() for e in self.errors],
            "changes": self.changes[:MAX_ERRORS],
            "change_count": len(self.changes),
            "added": self.added[:MAX_ERRORS],
            "missing": self.missing[:MAX_ERRORS],
            "missing_count": len(self.missing),
            "rows": self.rows,
            "applied": self.applied,
        }


class Refused(Exception):
    """Raised inside the transaction to roll everything back."""


def clean_text(value, *, compact: bool = False) -> str:
    if type(value) is str:
        # Most cells (names, IDs, 汉族, 户主) are letters and digits already in NFKC form: nothing to
        # fold, strip or drop (whitespace, zero-width characters and quotes are not alphanumeric).
        if value.isalnum() and unicodedata.is_normalized("NFKC", value):
            return value
        return _clean(value, compact)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _clean(str(value), compact)


# Repeated text that needs cleaning (a 乡(镇) name, a value with spaces) is cleaned once per file.
@functools.lru_cache(maxsize=8192)
def _clean(text: str, compact: bool) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    if text[:1] == "'" and text[1:2] in _FORMULA_STARTS:
        text = text[1:]  # our exports escape formula-like cells with a quote
    return _SPACES.sub("", text) if compact else _SPACES.sub(" ", text).strip()


class Collector:
    """The problems of one file, reported in the file's order (sheet, then row) whatever the phase
    that found them (reading, places, the database): the first MAX_ERRORS of them by row."""

    def __init__(self):
        self._found: list[tuple] = []  # (sort key, RowError)
        self.count = 0
        self.today = timezone.localdate()  # once per file, not once per ID
        self.sheet_order: dict[str, int] = {}  # sheet name → its place in the workbook

    def sheets(self, names) -> None:
        """The workbook's sheets in their order, so that errors sort by it."""
        for name in names:
            self.sheet_order.setdefault(name, len(self.sheet_order))

    def add(self, sheet, row, column, value, message):
        self.count += 1
        shown = "" if value is None else clean_text(value)
        rank = self.sheet_order.setdefault(sheet, len(self.sheet_order))
        self._found.append(
            ((rank, row, self.count), RowError(sheet, row, LABELS.get(column, column), shown[:60], message))
        )
        if len(self._found) >= 2 * MAX_ERRORS:  # keep the earliest rows, not the first found
            self._trim()

    def _trim(self):
        self._found.sort(key=lambda item: item[0])
        del self._found[MAX_ERRORS:]

    @property
    def errors(self) -> list[RowError]:
        self._trim()
        return [error for _key, error in self._found]


@contextmanager
def one_transaction(result: ImportResult, errors: Collector, *, dry_run: bool):
    """The whole file in one transaction: rolled back when any row failed (the body may raise
    Refused to stop early) and on a dry run; `result.applied` says whether it was kept."""
    try:
        with transaction.atomic():
            yield
            if errors.count:
                raise Refused
            result.applied = not dry_run
            if dry_run:
                transaction.set_rollback(True)
    except Refused:
        result.applied = False


@contextmanager
def collector_paused():
    """The cyclic garbage collector off while a roster's rows are built and compared. Those rows
    hold no reference cycles (reference counting frees them), yet every few thousand allocations
    the collector would re-scan the hundreds of thousands already alive: about a second of a
    county roster's import. It resumes afterwards, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def finish(result: ImportResult, errors: Collector, counts: dict) -> ImportResult:
    result.counts = counts
    result.error_count = errors.count
    result.errors = errors.errors
    return result


def parse_id(value, errors: Collector, sheet, row, column):
    """A resident ID, or None after recording why not. Numbers are refused, never repaired."""
    if type(value) is str and value.isascii() and value.isalnum() and value[1:2] not in ("e", "E"):
        text = value  # the usual cell: ASCII letters and digits, nothing to clean, not E notation
    elif isinstance(value, (int, float)) or (isinstance(value, str) and _SCIENTIFIC.match(value.strip())):
        shown = f"{value:.8e}" if isinstance(value, float) else str(value)
        errors.add(
            sheet,
            row,
            column,
            shown,
            _(
                "身份证号码被 Excel 存成了数字，末几位可能已经丢失。请把该列设置为“文本”格式，"
                "按原始证件重新填写后再导入（系统不会自动修复）"
            ),
        )
        return None
    else:
        text = clean_text(value)
    try:
        return idcard.parse(text, today=errors.today)
    except ValidationError as error:
        errors.add(sheet, row, column, value, error.messages[0])
        return None


def parse_vocab(key, value, errors, sheet, row, *, required=False):
    known = _VALID_CELLS.get((key, value))
    if known is not None:
        return known
    text = clean_text(value, compact=True)
    if not text:
        if required:
            errors.add(sheet, row, key, "", _("不能为空"))
        return ""
    if text not in _ALLOWED[key]:
        errors.add(
            sheet,
            row,
            key,
            text,
            _("不是允许的值，可填：%(allowed)s") % {"allowed": "、".join(VOCABULARIES[key])},
        )
        return None
    if type(value) is str and len(_VALID_CELLS) < 10_000:
        _VALID_CELLS[(key, value)] = text
    return text


_HUNDREDTHS = Decimal("0.01")
_MAX_DECIMAL = Decimal("1e8")


@functools.lru_cache(maxsize=4096)  # incomes repeat across a roster's households
def _money_from_float(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_HUNDREDTHS)


def parse_decimal(value, errors, sheet, row, key):
    if type(value) is float and 0 <= value < 1e8:  # a number cell in range: the usual case
        return _money_from_float(value)
    if value is None or clean_text(value) == "":
        return None
    try:
        number = (
            Decimal(str(value).replace(",", "").strip())
            if not isinstance(value, float)
            else Decimal(repr(value))
        )
    except InvalidOperation:
        errors.add(sheet, row, key, value, _("应为数字"))
        return None
    if number < 0 or number >= _MAX_DECIMAL:
        errors.add(sheet, row, key, value, _("数值超出范围"))
        return None
    return number.quantize(_HUNDREDTHS)


def parse_int(value, errors, sheet, row, key):
    if type(value) is float and value.is_integer():  # a number cell: nothing to clean
        return int(value)
    text = clean_text(value, compact=True)
    if not text:
        return None
    try:
        number = int(float(text))
    except ValueError:
        errors.add(sheet, row, key, value, _("应为整数"))
        return None
    return number


def parse_bool(value, errors, sheet, row, key):
    text = clean_text(value, compact=True).upper()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    errors.add(sheet, row, key, value, _("应填“是”或“否”"))
    return None


def cell(cells, mapping, key):
    index = mapping.get(key)
    if index is None or index >= len(cells):
        return None
    return cells[index]


def limited(text, length, errors, sheet, row, key):
    """Text that fits its column; longer text is an error, never silently cut."""
    if len(text) > length:
        errors.add(sheet, row, key, text, _("超过 %(n)d 个字") % {"n": length})
    return text[:length]


def parse_date(value, errors, sheet, row, key, *, required=True):
    """A date from a date cell or from text such as 2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日."""
    if isinstance(value, datetime.datetime):
        return _within_campaign(value.date(), errors, sheet, row, key)
    if isinstance(value, datetime.date):
        return _within_campaign(value, errors, sheet, row, key)
    text = clean_text(value, compact=True)
    if not text:
        if required:
            errors.add(sheet, row, key, "", _("不能为空"))
        return None
    match = _DATE.match(text)
    if match:
        try:
            return _within_campaign(
                datetime.date(*(int(part) for part in match.groups())), errors, sheet, row, key
            )
        except ValueError:
            pass
    errors.add(sheet, row, key, text, _("不是有效的日期，请写成 2026-03-01 的形式"))
    return None


def _within_campaign(day: datetime.date, errors, sheet, row, key):
    """Pairing and link dates keep to the campaign: from the floor setting to today."""
    try:
        for check in dates.campaign_date_validators():
            check(day)
    except ValidationError as error:
        errors.add(sheet, row, key, day.isoformat(), error.messages[0])
        return None
    return day


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\d{1,2}:\d{2}(?::\d{2})?)?$")


def blank(cells) -> bool:
    """An empty line, or the template's example row (its first cell reads 示例)."""
    for value in cells:
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return value == "示例"
    return True


def missing_columns(required, mapping, sheet, errors) -> bool:
    missing = [key for key in required if key not in mapping]
    for key in missing:
        errors.add(
            sheet,
            0,
            key,
            "",
            _("缺少必填列“%(label)s”（可用的列名：%(aliases)s）")
            % {"label": LABELS[key], "aliases": "、".join(ALIASES[key])},
        )
    return bool(missing)


def chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def same(old, new):
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (old is None and new is None) or (
            old is not None and new is not None and Decimal(old) == Decimal(new)
        )
    return old == new


def describe(value):
    if value is None or value == "":
        return "（空）"
    if isinstance(value, list):
        return "、".join(value) or "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def read_table(
    data: bytes,
    *,
    filename: str,
    anchors: set,
    required: tuple,
    errors: Collector,
    what: str,
    progress=None,
    xlsx_engine="calamine",
):
    """The data rows (sheet name, row number, cells, mapping) of the first visible sheet whose
    header names an anchor column; for the one-sheet kinds (cadres, links, pairings)."""
    sheets = open_sheets(data, filename=filename, xlsx_engine=xlsx_engine)
    for sheet in sheets:
        header = find_header(sheet.rows, anchors=anchors)
        if header is None:
            continue
        _number, mapping = header
        if missing_columns(required, mapping, sheet.name, errors):
            return []
        rows = []
        for number, cells in sheet.rows:
            if blank(cells):
                continue
            rows.append((sheet.name, number, cells, mapping))
            if progress and len(rows) % 2000 == 0:
                progress(len(rows))
        if not rows:
            raise FileRefused(_("工作表“%(name)s”在表头下面没有数据") % {"name": sheet.name})
        return rows
    if not sheets:
        raise FileRefused(_("工作簿中没有可见的工作表"))
    raise FileRefused(
        _("在工作表“%(names)s”的前 30 行中没有找到%(what)s的表头（应有 %(columns)s 等列）")
        % {
            "names": "、".join(s.name for s in sheets),
            "what": what,
            "columns": "、".join(LABELS[key] for key in required),
        }
        + renamed_text_hint(sheets, filename)
    )
