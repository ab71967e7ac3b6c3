"""Reading and writing many rows at once: one look-up for a whole file's keys, and new rows
written from plain dicts rather than model instances.

A county roster creates ~50,000 households and ~200,000 members. Building a
model instance per row and letting bulk_create compile and bind INSERTs cost
more than reading the workbook, so rows arrive as dicts of field attnames and
go straight to the database: COPY on PostgreSQL, executemany elsewhere
(SQLite). A field a row leaves out gets what bulk_create would give it: the
model's default, or for auto_now/auto_now_add fields the time of the insert.
"""

import io
import json
import queue
import threading
from itertools import islice
from operator import itemgetter

from django.db import connection, models
from django.db.models import Lookup

from .common import CHUNK

# Import values for these are already what the driver takes: str, bool, int, Decimal.
_AS_IS = (models.CharField, models.BooleanField, models.IntegerField, models.ForeignKey, models.DecimalField)
_COPY_BLOCK = 5_000  # rows per block of COPY text handed to the writer thread


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _array_literal(values) -> str:
    """PostgreSQL's text form of an array, {"a","b"} or {1,2}: one string parameter, which the
    server reads in one go, where a Python list would be sent as ARRAY['a', 'b', …] with
    200,000 constants to parse and plan."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    texts = [str(value) for value in values]
    joined = '","'.join(texts)
    if "\\" in joined or '"' in joined:
        joined = '","'.join(text.replace("\\", "\\\\").replace('"', '\\"') for text in texts)
    return '{"' + joined + '"}' if texts else "{}"


class OneOf(Lookup):
    """`filter(OneOf(F("field"), values))`: one query for any number of values. A county's
    200,000 IDs as a hundred IN lists of 2,000 parameters cost seconds, in Django building them
    and in the server planning each; PostgreSQL takes the values as one array (= ANY hashes
    it), SQLite as one JSON text."""

    lookup_name = "one_of"
    prepare_rhs = False

    def __init__(self, lhs, values):
        super().__init__(lhs, list(values))

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        array_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{array_type}[])", (*params, _array_literal(self.rhs))

    def as_sqlite(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*params, json.dumps(self.rhs))


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    text = value if type(value) is str else str(value)
    # Names, IDs and vocabulary are letters and digits: nothing to escape (the common case, checked in C).
    return text if text.isalnum() else text.translate(_COPY_ESCAPES)


def _converter(field):
    """value → what the driver is given, as the field's own get_db_prep_save would prepare it."""
    if isinstance(field, models.JSONField):
        # Text, not the driver's JSON adapter: COPY takes text, and SQLite stores the same dumps.
        return lambda value: None if value is None else json.dumps(value, cls=field.encoder)
    if isinstance(field, _AS_IS):
        return None
    if type(field) is models.DateField:  # not DateTimeField, its subclass
        return connection.ops.adapt_datefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _columns(model, *, with_pk=False):
    """(attname, converter, prepared default, column) for every column, the primary key only if asked."""
    blank = model()
    columns = []
    for field in model._meta.concrete_fields:
        if field.primary_key and not with_pk:
            continue
        convert = _converter(field)
        default = field.pre_save(blank, add=True)  # the default, or now() for auto_now(_add)
        columns.append(
            (field.attname, convert, default if convert is None else convert(default), field.column)
        )
    return columns


def _line_template(columns, row, plain):
    """How to write rows with these fields: a line template (the defaults, escaped once, around
    {} for the row's values), a getter of those values, and which of them need escaping."""
    parts, names, escaped = [], [], []
    for name, convert, default, _column in columns:
        if name in row:
            parts.append("{}")
            if name not in plain:
                escaped.append((len(names), convert))
            names.append(name)
        else:
            parts.append(_copy_text(default).replace("{", "{{").replace("}", "}}"))
    getter = itemgetter(*names) if len(names) > 1 else lambda row: tuple(row[name] for name in names)
    return "\t".join(parts) + "\n", getter, escaped


def _copy_sql(model, columns) -> str:
    names = ", ".join(connection.ops.quote_name(column) for _n, _c, _d, column in columns)
    return f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"


def insert_rows(model, rows, *, plain=frozenset()) -> None:
    """Insert rows (dicts of field attname → value) whose primary keys the caller does not need
    back; `plain` as for _copy_lines."""
    columns = _columns(model)
    rows = iter(rows)
    if connection.vendor == "postgresql":
        _copy(_copy_sql(model, columns), _copy_lines(columns, rows, plain))
        return
    names = ", ".join(connection.ops.quote_name(column) for _n, _c, _d, column in columns)
    table = connection.ops.quote_name(model._meta.db_table)

    def prepared(row):
        return [
            default if name not in row else (row[name] if convert is None else convert(row[name]))
            for name, convert, default, _column in columns
        ]

    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        while batch := list(islice(rows, CHUNK)):
            cursor.executemany(sql, [prepared(row) for row in batch])


def _copy_lines(columns, rows, plain=frozenset()):
    """COPY's text for the rows, a block of _COPY_BLOCK lines at a time.

    `plain` names fields whose values the caller guarantees are never None and never hold a
    tab, newline or backslash (IDs, vocabulary, dates, keys): they go into the line as they
    format, the rest through _copy_text. A county roster writes a quarter of a million rows of
    a dozen fields each, and a call per field was most of the formatting."""
    lines_for = {}  # the row's field names → (line template, getter, fields to escape)
    while batch := list(islice(rows, _COPY_BLOCK)):
        lines = []
        for row in batch:
            keys = tuple(row)
            if keys not in lines_for:
                lines_for[keys] = _line_template(columns, row, plain)
            template, getter, escaped = lines_for[keys]
            values = getter(row)
            if escaped:
                values = list(values)
                for at, convert in escaped:
                    value = values[at]
                    values[at] = _copy_text(value if convert is None else convert(value))
            lines.append(template.format(*values))
        del batch
        yield "".join(lines)


class BlockCopier:
    """COPY of a model's rows one block at a time, through a cursor of the caller's (PostgreSQL):
    for a writer that interleaves other statements between the blocks."""

    def __init__(self, model, *, with_pk=False, plain=frozenset()):
        self.columns = _columns(model, with_pk=with_pk)
        self.sql = _copy_sql(model, self.columns)
        self.plain = plain

    def text(self, rows) -> str:
        """COPY's text for the rows (dicts of field attname → value); `plain` as for _copy_lines."""
        return "".join(_copy_lines(self.columns, iter(rows), self.plain))

    def copy(self, cursor, text: str) -> None:
        # The driver's cursor under Django's; read in large pieces, as the text is already whole.
        cursor.cursor.copy_expert(self.sql, io.StringIO(text), size=1 << 20)


def hand_to(thread, jobs: queue.Queue, job) -> bool:
    """Queue a job for a worker thread; False once the thread has ended (a writer that failed
    takes no more), rather than waiting forever on a full queue."""
    while thread.is_alive():
        try:
            jobs.put(job, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


class _Abort(Exception):
    """Raised inside the COPY when the rows could not be produced: the server abandons it."""


class _Feed:
    """What COPY … FROM STDIN reads in the writer thread: blocks of text handed over by the thread
    that produces them, through a short queue (so at most a few blocks are held at once)."""

    END, ABORT = object(), object()

    def __init__(self):
        self.blocks = queue.Queue(maxsize=4)
        self.done = False

    def read(self, _size=-1):
        if self.done:
            return ""
        block = self.blocks.get()
        if block is self.ABORT:
            self.done = True
            raise _Abort
        if block is self.END:
            self.done = True
            return ""
        return block


def _copy(sql, blocks):
    """Run COPY in a writer thread while this thread produces its text, block by block.

    The server parses, checks and indexes each block (in its own process) while this thread
    formats the next, which hides most of the formatting. The writer uses this connection,
    inside the caller's transaction, and this thread issues nothing else until it has
    finished: an error on either side ends the COPY and is raised here, and the caller's
    atomic() rolls the whole file back."""
    connection.ensure_connection()
    raw = connection.connection.cursor()
    feed = _Feed()
    failure = []

    def write():
        try:
            raw.copy_expert(sql, feed)
        except BaseException as error:  # handed to the producing thread, raised there
            failure.append(error)

    writer = threading.Thread(target=write, name="import-copy", daemon=True)
    writer.start()

    try:
        for block in blocks:
            if not hand_to(writer, feed.blocks, block):
                break
        else:
            hand_to(writer, feed.blocks, _Feed.END)
    except BaseException:
        hand_to(writer, feed.blocks, _Feed.ABORT)
        writer.join()
        raw.close()
        raise
    writer.join()
    raw.close()
    if failure:
        with connection.wrap_database_errors:  # psycopg2's errors as Django's, as from any query
            raise failure[0]
