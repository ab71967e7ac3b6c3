"""Reading an uploaded file in a child process with a memory and CPU limit and a timeout.

A 5 KB workbook can ask a reader for half a terabyte (calamine builds a dense range up to
the farthest cell, so one cell at XFD1048576 is 16,384 × 1,048,576 cells) and the
allocation failure aborts the whole process: the import worker, with it. So no reader runs
in the worker. `imports/sandbox_child.py` reads the file in a fresh interpreter under
RLIMIT_AS and RLIMIT_CPU and hands rows back a thousand at a time, on request, so the
importers iterate sheets as before (a header search on each sheet, then the rows of the
one they chose). Whatever the child meets (a limit, a reader error, its own death)
becomes a `reader.FileUnreadable` with a Chinese reason naming the file.
"""

import fcntl
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .sandbox_child import FRAME_LENGTH

CHILD = Path(__file__).with_name("sandbox_child.py")

# What a township roster can reasonably be: a county of 200,000 people is ~250,000 rows of ~30
# columns; Excel caps a cell at 32,767 characters, a roster's longest cell is an address.
MAX_ROWS = 500_000
MAX_COLUMNS = 1_000
MAX_CELLS = 20_000_000
MAX_CELL_CHARS = 2_000
MAX_SHARED_STRINGS = 2_000_000


def limits() -> dict:
    return {
        "rows": MAX_ROWS,
        "columns": MAX_COLUMNS,
        "cells": MAX_CELLS,
        "cell_chars": MAX_CELL_CHARS,
        "shared_strings": MAX_SHARED_STRINGS,
    }


def reason(code: str, params: dict) -> str:
    """The Chinese wording of the child's refusal codes."""
    p = dict(
        params,
        max_rows=MAX_ROWS,
        max_columns=MAX_COLUMNS,
        max_cells=MAX_CELLS,
        limit_chars=MAX_CELL_CHARS,
        limit_strings=MAX_SHARED_STRINGS,
        mb=settings.SHUANGLIAN_IMPORT_READER_MEMORY_MB,
        seconds=settings.SHUANGLIAN_IMPORT_READER_SECONDS,
    )
    texts = {
        "doctype": _(
            "其中的“%(part)s”含有 DOCTYPE 或实体声明（Excel 和 WPS 不会写这种内容），可能是恶意文件，已拒绝"
        ),
        "dimension": _(
            "工作表“%(part)s”声明的范围是 %(ref)s（%(rows)d 行、%(columns)d 列），超过上限"
            "（%(max_rows)d 行、%(max_columns)d 列、共 %(max_cells)d 个单元格）；"
            "请删除表格右侧和下方多余的行列，"
            "或按乡镇拆分后分别导入"
        ),
        "shared_strings": _("工作簿中的不同文字有 %(count)d 个，超过 %(limit_strings)d 个的上限"),
        "size": _(
            "工作表“%(sheet)s”有 %(rows)d 行、%(columns)d 列，"
            "超过上限（%(max_rows)d 行、%(max_columns)d 列）；"
            "请删除多余的行列，或按乡镇拆分后分别导入"
        ),
        "columns": _("工作表“%(sheet)s”第%(row)d行有 %(columns)d 列，超过 %(max_columns)d 列的上限"),
        "cell": _(
            "工作表“%(sheet)s”第%(row)d行第%(column)d列的单元格有 %(chars)d 个字符，"
            "超过 %(limit_chars)d 个字符的上限"
        ),
        "csv_field": _("第%(row)d行有一个字段超过 %(limit_chars)d 个字符的上限（常见原因：引号没有配对）"),
        "csv": _("第%(row)d行无法按 CSV 解析（%(reason)s）"),
        "encoding": _("无法识别 CSV 文件的文字编码（应为 UTF-8 或 GBK/GB18030）"),
        "corrupt": _("文件已损坏，无法作为 Excel 工作簿打开（%(reason)s）"),
        "memory": _(
            "读取所需内存超过 %(mb)d MB 的上限（常见原因：某个单元格远在表格右下方，如 XFD1048576，"
            "使表格范围极大）；请删除多余的行列后再导入"
        ),
        "timeout": _("读取超过 %(seconds)d 秒仍未完成，已停止"),
        "died": _("读取文件的进程意外退出（%(how)s），文件可能已损坏"),
    }
    return texts[code] % p


def _stop(process, stderr):
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, stderr):
        try:
            stream.close()
        except OSError:
            pass


class Reading:
    """One file being read by one child process; sheets ask it for their rows in turn."""

    def __init__(self, data: bytes, *, kind: str, engine: str, filename: str):
        self.filename = filename
        self.seconds = settings.SHUANGLIAN_IMPORT_READER_SECONDS
        memory = settings.SHUANGLIAN_IMPORT_READER_MEMORY_MB * 2**20
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(CHILD), str(memory), str(self.seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            bufsize=0,
        )
        # Killed and reaped when the last sheet iterator lets go of it, read to the end or not.
        self._finalizer = weakref.finalize(self, _stop, self.process, self.stderr)
        self.inflight, self.stash = deque(), {}
        try:  # a larger pipe lets the child run a chunk or two ahead (Linux; the default is 64 KB)
            fcntl.fcntl(self.process.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass
        self.sheets = self._send((kind, engine, limits(), data))

    def close(self):
        self._finalizer()

    def rows(self, index: int):
        while True:
            reply = self._next(index)
            if reply[0] == "end":
                return
            yield from reply[1]

    def _next(self, index: int):
        """The next chunk of one sheet. The request for the chunk after it goes out at once, so
        the child reads it while the importer works through this one (the two run on two cores);
        replies come in request order, and one meant for another sheet waits in the stash."""
        reply = self.stash.pop(index, None)
        if reply is None:
            if index not in self.inflight:
                self._write(("rows", index))
                self.inflight.append(index)
            while True:
                answered = self.inflight.popleft()
                reply = self._receive()
                if answered == index:
                    break
                self.stash[answered] = reply
        if reply[0] == "rows":
            self._write(("rows", index))
            self.inflight.append(index)
        return reply

    def _send(self, message):
        self._write(message)
        return self._receive()[1]

    def _write(self, message):
        body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.process.stdin.write(FRAME_LENGTH.pack(len(body)) + body)
        except (BrokenPipeError, ValueError):
            self._fail()

    def _receive(self):
        deadline = time.monotonic() + self.seconds
        head = self._read(FRAME_LENGTH.size, deadline)
        reply = pickle.loads(self._read(FRAME_LENGTH.unpack(head)[0], deadline))
        if reply[0] == "refused":
            self.close()
            self._refuse(reason(reply[1], reply[2]))
        return reply

    def _read(self, size: int, deadline: float) -> bytes:
        fd = self.process.stdout.fileno()
        parts, wanted = [], size
        while wanted:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.close()
                self._refuse(reason("timeout", {}))
            part = os.read(fd, min(wanted, 1 << 20))
            if not part:
                self._fail()
            parts.append(part)
            wanted -= len(part)
        return b"".join(parts)

    def _fail(self):
        """The child is gone: say why, from its exit status and its last words."""
        self.process.wait()
        self.stderr.seek(0)
        last_words = self.stderr.read(64 * 1024).decode(
            "utf-8", "replace"
        )  # Rust's backtrace follows its message
        code = self.process.returncode
        self.close()
        if code == -signal.SIGXCPU:
            self._refuse(reason("timeout", {}))
        if "memory allocation" in last_words or "MemoryError" in last_words:
            self._refuse(reason("memory", {}))
        how = _("信号 %(n)d") % {"n": -code} if code < 0 else _("退出码 %(n)d") % {"n": code}
        self._refuse(reason("died", {"how": how}))

    def _refuse(self, text: str):
        from .reader import FileUnreadable as Refusal

        raise Refusal(_("无法读取“%(file)s”：%(reason)s") % {"file": self.filename, "reason": text})
