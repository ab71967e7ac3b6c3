"""The roster reader's child process: reads one uploaded file under a memory and CPU limit.

Run by `imports.sandbox` as `python -I sandbox_child.py MEMORY_BYTES CPU_SECONDS`, never
imported by Django code: it uses the standard library and the spreadsheet readers only, so a
hostile file (a cell at XFD1048576 that makes calamine allocate 512 GB, an entity-laden XML
part, a 200,000-character CSV field) can at worst end this process, never the worker.

Protocol, frames of an 8-byte big-endian length and a pickle, over stdin/stdout:
  parent → child: (kind, engine, limits dict, data bytes)
  child → parent: ("sheets", [(name, read_as), …]) or ("refused", code, params)
  parent → child: ("rows", sheet index)           (repeated)
  child → parent: ("rows", [(number, cells), …]) or ("end",) or ("refused", code, params)
The parent words every refusal (codes below) in Chinese; nothing here is shown to a user.
"""

import csv
import io
import pickle
import re
import resource
import struct
import sys
import zipfile
import zlib

CHUNK = 1000  # rows per frame
FRAME_LENGTH = struct.Struct(">Q")
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,4})\$?(\d{1,8})(?::\$?([A-Z]{1,4})\$?(\d{1,8}))?\""
)
_UNIQUE = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\b(?:uniqueCount|count)=\"(\d+)\"")
_DOCTYPE = (b"<!doctype", b"<!entity", "<!DOCTYPE".encode("utf-16-le"), "<!ENTITY".encode("utf-16-le"))
PEEK = 64 * 1024  # an XML part's prolog and a sheet's <dimension> come within its first bytes


class Refusal(Exception):
    def __init__(self, code, **params):
        super().__init__(code)
        self.code, self.params = code, params


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_parts(data: bytes, limits: dict) -> None:
    """Refuse a workbook from what its parts declare, before any reader allocates for it:
    a DOCTYPE or entity in any XML part, a sheet's <dimension> beyond the limits, too many
    shared strings."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(info) as part:
                head = part.read(PEEK)
            if any(mark in head.lower() if mark.isascii() else mark in head for mark in _DOCTYPE):
                raise Refusal("doctype", part=info.filename)
            if info.filename.startswith("xl/worksheets/"):
                found = _DIMENSION.search(head)
                if found:
                    first_col, first_row, last_col, last_row = found.groups()
                    columns = column_number(last_col or first_col)
                    rows = int(last_row or first_row)
                    if (
                        rows > limits["rows"]
                        or columns > limits["columns"]
                        or rows * columns > limits["cells"]
                    ):
                        raise Refusal(
                            "dimension",
                            part=info.filename,
                            ref=found.group(0).split(b'"')[1].decode(),
                            rows=rows,
                            columns=columns,
                        )
            elif info.filename == "xl/sharedStrings.xml":
                found = _UNIQUE.search(head)
                if found and int(found.group(1)) > limits["shared_strings"]:
                    raise Refusal("shared_strings", count=int(found.group(1)))


def checked(name, number, values, limits):
    """One row as the importers want it ('' → None), refusing an overlong cell or row."""
    if len(values) > limits["columns"]:
        raise Refusal("columns", sheet=name, row=number, columns=len(values))
    longest = limits["cell_chars"]
    too_long = [index for index, value in enumerate(values) if type(value) is str and len(value) > longest]
    if too_long:
        raise Refusal("cell", sheet=name, row=number, column=too_long[0] + 1, chars=len(values[too_long[0]]))
    return number, [None if value == "" else value for value in values]


def calamine_sheets(data, kind, limits):
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = [
        meta.name
        for meta in book.sheets_metadata
        if str(meta.visible).endswith("Visible") and "WorkSheet" in str(meta.typ)
    ]

    def rows(name):
        sheet = book.get_sheet_by_name(name)
        if sheet.height > limits["rows"] or sheet.width > limits["columns"]:
            raise Refusal("size", sheet=name, rows=sheet.height, columns=sheet.width)
        start = sheet.start or (0, 0)
        pad = [None] * start[1]
        for number, values in enumerate(sheet.iter_rows(), start=start[0] + 1):
            yield checked(name, number, pad + values if pad else values, limits)

    return [(name, kind, rows) for name in names]


def openpyxl_sheets(data, limits):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)

    def rows(name):
        for number, values in enumerate(book[name].iter_rows(values_only=True), start=1):
            if number > limits["rows"]:
                raise Refusal("size", sheet=name, rows=number, columns=len(values))
            yield checked(name, number, list(values), limits)

    return [(ws.title, "xlsx", rows) for ws in book.worksheets if ws.sheet_state == "visible"]


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Refusal("encoding") from None


def csv_sheets(data, limits):
    text = decode_text(data)
    del data
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    # A field one character past the cell limit is enough to tell it is too long.
    csv.field_size_limit(limits["cell_chars"] + 1)

    def rows(name):
        reader = csv.reader(io.StringIO(text), dialect)
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                if "field larger than field limit" in str(error):
                    raise Refusal("csv_field", row=number + 1) from None
                raise Refusal("csv", row=number + 1, reason=str(error)) from None
            number += 1
            if number > limits["rows"]:
                raise Refusal("size", sheet=name, rows=number, columns=len(values))
            yield checked(name, number, values, limits)

    return [(None, "csv", rows)]


def failure(error: Exception) -> tuple:
    """A reader's exception as a refusal: zlib's Z_MEM_ERROR (-4) is the memory limit too."""
    if isinstance(error, MemoryError) or (isinstance(error, zlib.error) and "Error -4 " in str(error)):
        return ("refused", "memory", {})
    return ("refused", "corrupt", {"reason": f"{type(error).__name__}: {error}"[:300]})


def read_frame(stream):
    head = stream.read(FRAME_LENGTH.size)
    if len(head) < FRAME_LENGTH.size:
        return None
    (length,) = FRAME_LENGTH.unpack(head)
    return pickle.loads(stream.read(length))


def write_frame(stream, message):
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(FRAME_LENGTH.pack(len(body)) + body)
    stream.flush()


def serve(inp, out):
    kind, engine, limits, data = read_frame(inp)
    try:
        if kind == "xlsx":
            check_parts(data, limits)
            sheets = (
                calamine_sheets(data, kind, limits) if engine == "calamine" else openpyxl_sheets(data, limits)
            )
        elif kind == "xls":
            sheets = calamine_sheets(data, kind, limits)
        else:
            sheets = csv_sheets(data, limits)
    except Refusal as refusal:
        return write_frame(out, ("refused", refusal.code, refusal.params))
    except Exception as error:  # the readers raise many kinds on malformed parts
        return write_frame(out, failure(error))
    del data
    write_frame(out, ("sheets", [(name, read_as) for name, read_as, _rows in sheets]))
    iterators = {}
    while (request := read_frame(inp)) is not None:
        index = request[1]
        name, _read_as, rows = sheets[index]
        try:
            iterator = iterators.get(index) or iterators.setdefault(index, rows(name))
            chunk = []
            for row in iterator:
                chunk.append(row)
                if len(chunk) == CHUNK:
                    break
        except Refusal as refusal:
            write_frame(out, ("refused", refusal.code, refusal.params))
            return
        except Exception as error:
            write_frame(out, failure(error))
            return
        write_frame(out, ("rows", chunk) if chunk else ("end",))


def main():
    memory, cpu = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # SIGXCPU at the limit (the parent words it as a timeout), SIGKILL a little later if ignored.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
