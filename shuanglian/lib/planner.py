"""PostgreSQL planner settings for one heavy computation, put back when it ends.

Some office figures read every household, pairing and tally of the province in a few statements,
and the planner's defaults suit the small queries of the pages better than those. A computation
that has measured a better setting runs inside ``settings(...)``, or, already inside a transaction
that ends with it, sets it with ``for_transaction(...)``; elsewhere (SQLite) both do nothing.
"""

import contextlib

from django.db import connection


def statements() -> int:
    """How many statements ``settings`` adds around a computation (query-count pins add them)."""
    return 2 if connection.vendor == "postgresql" else 0


@contextlib.contextmanager
def settings(name: str, value):
    """Run the block with the PostgreSQL setting ``name`` at ``value``; then its previous value.

    One statement reads the old value and sets the new one, one puts the old one back. After a
    failure inside a transaction the rollback that must follow undoes the setting with the rest;
    outside one (autocommit) the session would keep it, so it is put back there too."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s), set_config(%s, %s, false)", [name, name, str(value)])
        before = cursor.fetchone()[0]
    try:
        yield
    except BaseException:
        if not connection.in_atomic_block:
            _put_back(name, before)
        raise
    _put_back(name, before)


def for_transaction(name: str, value) -> None:
    """Inside a transaction: the PostgreSQL setting ``name`` at ``value`` until it ends (SET LOCAL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, str(value)])


def _put_back(name: str, before: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [name, before])
