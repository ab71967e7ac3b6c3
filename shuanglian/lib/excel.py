"""The one writer of every .xlsx the app hands out: IDs as text, no formula injection.

Every generated workbook (page exports, the admin export, the import's template and error
workbook) is built here or through `cell`/`put`/`append`, so that no text cell can start with
a character that Excel or WPS reads as a formula. tests/test_workbook_formulas.py downloads
every workbook the app offers and checks it, and fails if an app imports openpyxl's Workbook.
"""

import io
import re
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from import_export.formats.base_formats import XLSX as TablibXLSX
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A text cell starting with one of these is read as a formula by Excel and WPS (OWASP's CSV
# injection list, plus the full-width forms a Chinese input method types).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_BOLD = Font(bold=True)
# The cells a plain value may be: anything else (a model, a lazy string) is written as its text.
_PLAIN = (int, float, Decimal, type(None))


def safe_cell_value(value):
    """`value` as it may be written: formula-like text gets a leading apostrophe (which our
    importer drops again, imports/common.py), control characters that openpyxl refuses become
    U+FFFD, numbers and dates stay what they are."""
    if isinstance(value, _PLAIN) or hasattr(value, "isoformat"):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", str(value))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def new_workbook(*, write_only: bool = True) -> Workbook:
    """Write-only (streamed rows) unless a sheet needs random access (comments, validations)."""
    return Workbook(write_only=write_only)


def cell(sheet, value, *, bold: bool = False, text: bool = False, fill=None) -> Cell:
    """One cell of a write-only sheet. `text` formats it as text (`@`), so that Excel keeps
    long digit strings (IDs, phones) whole when someone edits them."""
    written = WriteOnlyCell(sheet, value=safe_cell_value(value))
    if bold:
        written.font = _BOLD
    if text and isinstance(written.value, str):
        written.number_format = "@"
    if fill is not None:
        written.fill = fill
    return written


def append(sheet, values) -> None:
    """One row of a write-only or ordinary sheet; WriteOnlyCells from `cell` pass through."""
    sheet.append([v if isinstance(v, Cell) else safe_cell_value(v) for v in values])


def put(sheet, row: int, column: int, value):
    """One cell of an ordinary (random-access) sheet."""
    return sheet.cell(row, column, safe_cell_value(value))


def workbook_bytes_of(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_bytes(title: str, headers: list[str], rows) -> bytes:
    """One sheet: a bold header row, then `rows`; every text cell formatted as text."""
    book = new_workbook()
    sheet = book.create_sheet(_sheet_title(title))
    append(sheet, [cell(sheet, header, bold=True) for header in headers])
    for row in rows:
        append(sheet, [cell(sheet, value, text=True) for value in row])
    return workbook_bytes_of(book)


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet name, and names longer than 31.
    return re.sub(r"[\\/*?:\[\]]", " ", str(title))[:31] or "Sheet1"


def xlsx_response(filename: str, title: str, headers: list[str], rows) -> HttpResponse:
    response = HttpResponse(workbook_bytes(title, headers, rows), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


class SafeXLSX(TablibXLSX):
    """The admin's .xlsx export (django-import-export) written by `workbook_bytes`, not by
    tablib, so that it escapes like every other workbook instead of dropping a leading `=`."""

    def export_data(self, dataset, **kwargs):
        return workbook_bytes(dataset.title or "Sheet1", list(dataset.headers or []), dataset)
