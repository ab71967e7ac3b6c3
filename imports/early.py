"""Writing a first import while it is still being read (PostgreSQL, one-row-per-person rosters).

Most county rosters arrive once, every household new. Checking 200,000 rows in Python and
the server's COPY into indexed tables take seconds each, and the server's part runs in its
own process. So, while the reader checks the rows, each block of accepted households has its
villages resolved, its keys taken from the sequence and its COPY text formatted, and goes to
a writer thread with its own connection and transaction, which COPYs it (households, then
their members; foreign keys checked per block rather than all at the commit) while the
reader goes on with the next block.

The writer commits only if the reader finished without a single error and every household
was written. Anything else rolls its transaction back and the import takes its ordinary
path (compare with the database, then write) over the rows it holds, which finds and words
every problem: a row error, a village that does not resolve, and a head or person already
registered (there a unique constraint stops the COPY: a re-import finds out in its first
block). Either way the outcome is the ordinary path's, sooner for a first import. Keys taken
for a block that is then rolled back are left unused, as after any rolled-back insert.
"""

import logging
import queue
import threading

from django.db import IntegrityError, connection, transaction

from households.models import Household, Member

from .bulk import BlockCopier, hand_to
from .common import Collector
from .rows import PLAIN_HOUSEHOLD_FIELDS, PLAIN_MEMBER_FIELDS
from .villages import VillageResolver

_COMMIT, _ROLLBACK = object(), object()
log = logging.getLogger(__name__)


class _Discard(Exception):
    """Leaves the writer's transaction, rolling it back."""


class EarlyWriter:
    """Offered each household as the one-row-per-person reader accepts it (a two-sheet roster's
    members come only with its second sheet: it is written the ordinary way). A file of fewer
    than BLOCK households is written the ordinary way too: there is nothing to overlap."""

    BLOCK = 2_000  # households per block, one COPY each of households and members

    @classmethod
    def for_import(cls, user, errors: Collector, *, dry_run: bool):
        """A writer when this import can use one, else None: not for a dry run, not on SQLite
        (one writer at a time: nothing to overlap), and not inside the caller's transaction,
        whose rollback must undo the import too (the writer commits on its own connection)."""
        if dry_run or connection.vendor != "postgresql" or connection.in_atomic_block:
            return None
        return cls(user, errors)

    def __init__(self, user, errors: Collector):
        self.user = user
        self.errors = errors
        self.pending = []
        self.offered = 0
        self.created_ids = []
        self.jobs = queue.Queue(maxsize=2)  # blocks waiting for the writer: a bounded amount of memory
        self.resolver = self.copiers = self.sequence = None  # set up with the first block
        self.thread = None
        self.stopped = False  # nothing more is offered: the ordinary path will write this file
        self.committed = False

    # ---------------------------------------------------------------- the reading thread

    def offer(self, household) -> None:
        """A household the reader accepted (a HouseholdRow with its members)."""
        if self.stopped:
            return
        if self.errors.count:  # the file will be refused: writing more is wasted
            self.stop()
            return
        self.pending.append(household)
        if len(self.pending) >= self.BLOCK:
            self._hand_over()

    def stop(self) -> None:
        self.stopped = True
        self.pending = []
        self._end(_ROLLBACK)

    def finish(self, rows: list) -> list | None:
        """After the reader: commit if the writer holds the whole file without error. The new
        households' keys in file order, or None when the ordinary path must write the file."""
        if self.thread is None or self.stopped or self.errors.count:
            self.stop()
            return None
        if self.pending:
            self._hand_over()
        if self.stopped or self.offered != len(rows):
            self.stop()
            return None
        self._end(_COMMIT)
        return self.created_ids if self.committed else None

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()  # an exception in the reader: the writer rolls back (a no-op once it has ended)

    def _hand_over(self) -> None:
        """Resolve the block's villages, take its keys and format its COPY text here, where the
        reading is (the Python work, one thread at a time anyway), and queue the text for the
        writer, whose COPY is the server's work. This thread's connection is its own and outside
        any transaction: its look-ups and nextval() commit nothing the writer could lose."""
        block, self.pending = self.pending, []
        if self.thread is None:
            self.resolver = VillageResolver(self.user)
            self.copiers = (
                BlockCopier(Household, with_pk=True, plain=PLAIN_HOUSEHOLD_FIELDS),
                BlockCopier(Member, plain=PLAIN_MEMBER_FIELDS),
            )
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Household._meta.db_table])
                self.sequence = cursor.fetchone()[0]
            self.thread = threading.Thread(target=self._work, name="import-early-writer", daemon=True)
            self.thread.start()
        unresolved = Collector()
        self.resolver.resolve(block, unresolved)
        if unresolved.count:
            self.stop()
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [self.sequence, len(block)])
            ids = [key for (key,) in cursor.fetchall()]
        households, members = self.copiers
        texts = (
            households.text({"id": key, **hh.new_household()} for key, hh in zip(ids, block)),
            members.text(person.new_member(key) for key, hh in zip(ids, block) for person in hh.members),
        )
        if not self._put(texts):
            self.stop()  # the writer gave up: a head or person already registered
            return
        self.offered += len(block)
        self.created_ids.extend(ids)

    def _put(self, job) -> bool:
        return hand_to(self.thread, self.jobs, job)

    def _end(self, job) -> None:
        if self.thread is not None:
            self._put(job)
            self.thread.join()

    # ---------------------------------------------------------------- the writer thread

    def _work(self):
        try:
            with transaction.atomic():
                self._write_blocks()
            self.committed = True
        except (_Discard, IntegrityError):
            pass  # a row error, an unresolved village or a registered person: the ordinary path words it
        except (
            Exception
        ):  # anything else is a fault of ours, but not the user's file's: write it the ordinary way
            log.exception("early writer failed; the import continues on the ordinary path")
        finally:
            connection.close()  # this thread's own connection

    def _write_blocks(self):
        households, members = self.copiers
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked block by block, not all at the commit
            while (texts := self.jobs.get()) is not _COMMIT:
                if texts is _ROLLBACK:
                    raise _Discard
                with connection.wrap_database_errors:  # the driver's errors as Django's (IntegrityError)
                    households.copy(cursor, texts[0])
                    members.copy(cursor, texts[1])
