"""Writing .xlsx downloads: streamed rows, IDs as text, no formula injection."""

import io
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is read as a formula by Excel and WPS.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell_value(value):
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def workbook_bytes(title: str, headers: list[str], rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=safe_cell_value(value))
            if isinstance(value, str):
                cell.number_format = "@"  # long digit strings (IDs, phones) stay text
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, title: str, headers: list[str], rows) -> HttpResponse:
    response = HttpResponse(workbook_bytes(title, headers, rows), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
