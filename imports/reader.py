"""Reading roster files: .xlsx, legacy .xls and .csv, told apart by their content.

Township offices rename files freely (a .xls that is really .xlsx, a .csv
saved as .xls by WPS), so the extension is never trusted. Every reader yields
the same thing: visible sheets, each an iterator of (row number, cells) with
the row number as Excel shows it, so messages can point at the right line.

A workbook is a zip archive; its central directory declares every member's
uncompressed size, so a zip bomb or an oversized sheet is refused from those
numbers before a single byte is inflated. What passes is parsed in a child process under a
memory and CPU limit (`imports/sandbox.py`), so that no file can take the worker down.
"""

import io
import zipfile
from dataclasses import dataclass, field
from typing import Iterator

from django.utils.translation import gettext as _

# Limits for what a township roster can reasonably be. A county's 200,000-person
# roster is ~40 MB of sheet XML; a quarter of a gigabyte leaves ample room.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
# Sheet XML compresses 10-30×; a ratio past this is a bomb, not a roster.
MAX_RATIO = 200

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileRefused(Exception):
    """The file as a whole cannot be read; the message is for the user."""


class FileUnreadable(FileRefused):
    """The reader itself refused the file (a limit, a hostile or broken part) or did not
    finish it (out of memory, out of time): the batch failed rather than found errors."""


@dataclass
class Sheet:
    name: str
    rows: Iterator[tuple[int, list]] = field(repr=False)
    read_as: str = "xlsx"  # or "xls", "csv": what the bytes turned out to be


def renamed_text_hint(sheets: list[Sheet], filename: str) -> str:
    """For a refusal that found no header: a file named .xls/.xlsx whose bytes are plain text was
    read as CSV (WPS saves CSV under .xls), which the user should hear when it did not work."""
    extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if sheets and sheets[0].read_as == "csv" and extension in ("xls", "xlsx"):
        return _(
            "。文件名是 .%(ext)s，内容却是纯文本而不是 Excel 工作簿（已按 CSV 读取）："
            "请上传用 Excel 或 WPS 保存的原始文件"
        ) % {"ext": extension}
    return ""


def check_zip(data: bytes) -> None:
    """Refuse an archive whose declared sizes are too large, before inflating anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileRefused(_("文件已损坏，无法作为 Excel 工作簿打开")) from None
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > MAX_RATIO:
                raise FileRefused(
                    _(
                        "文件中的“%(name)s”解压后约 %(mb)d MB，压缩比异常（%(ratio)d 倍），"
                        "疑似压缩炸弹，已拒绝"
                    )
                    % {"name": info.filename, "mb": info.file_size // 2**20, "ratio": ratio}
                )
        if total > MAX_UNCOMPRESSED_BYTES:
            raise FileRefused(
                _("工作簿解压后约 %(mb)d MB，超过 %(limit)d MB 的上限，请按乡镇或村拆分后分别导入")
                % {"mb": total // 2**20, "limit": MAX_UNCOMPRESSED_BYTES // 2**20}
            )
        names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("文件不是 Excel 工作簿（.xlsx），也不是 .xls 或 .csv 表格"))


def sniff(data: bytes) -> str:
    """'xlsx', 'xls' or 'csv', judged from the bytes; refuses anything else."""
    if not data:
        raise FileRefused(_("文件是空的"))
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            _("文件大小 %(mb)d MB，超过 %(limit)d MB 的上限")
            % {"mb": len(data) // 2**20, "limit": MAX_FILE_BYTES // 2**20}
        )
    if data.startswith(_ZIP):
        check_zip(data)
        return "xlsx"
    if data.startswith(_OLE):
        # Password-protected .xlsx files are OLE containers holding an EncryptedPackage stream.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise FileRefused(_("工作簿设置了密码（已加密），请在 Excel 中取消密码后再导入"))
        return "xls"
    head = data[:4096]
    if b"\x00" in head:
        raise FileRefused(_("文件不是电子表格（.xlsx、.xls 或 .csv），无法导入"))
    return "csv"


def open_sheets(data: bytes, *, filename: str = "", xlsx_engine: str = "calamine") -> list[Sheet]:
    """The visible sheets of a roster file; raises FileRefused for what cannot be read.

    The bytes are judged here; the parsing runs in a child process with limits
    (`imports.sandbox`), whose rows the sheets' iterators fetch as they go."""
    from .sandbox import Reading

    kind = sniff(data)
    name = filename.rsplit("/", 1)[-1]
    reading = Reading(data, kind=kind, engine=xlsx_engine, filename=name or _("上传的文件"))
    stem = name.rsplit(".", 1)[0] or "CSV"
    return [
        Sheet(sheet or stem, reading.rows(index), read_as)
        for index, (sheet, read_as) in enumerate(reading.sheets)
    ]
