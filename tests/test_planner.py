"""shuanglian.lib.planner: a PostgreSQL setting for one computation, put back after it."""

import pytest
from django.db import connection, transaction

from shuanglian.lib import planner

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="planner settings are PostgreSQL's")
NAME = "max_parallel_workers_per_gather"


def _current() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [NAME])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_setting_holds_inside_and_the_old_value_comes_back():
    before = _current()
    wanted = "3" if before != "3" else "1"
    with planner.settings(NAME, wanted):
        assert _current() == wanted
    assert _current() == before


@pytest.mark.django_db(transaction=True)
def test_a_failure_outside_a_transaction_still_puts_the_old_value_back():
    before = _current()
    wanted = "3" if before != "3" else "1"
    with pytest.raises(ZeroDivisionError), planner.settings(NAME, wanted):
        1 / 0  # noqa: B018
    assert _current() == before


@pytest.mark.django_db(transaction=True)
def test_a_failure_inside_a_transaction_is_undone_by_its_rollback():
    before = _current()
    wanted = "3" if before != "3" else "1"
    with pytest.raises(ZeroDivisionError), transaction.atomic(), planner.settings(NAME, wanted):
        1 / 0  # noqa: B018
    assert _current() == before


@pytest.mark.django_db(transaction=True)
def test_a_transaction_s_setting_ends_with_it():
    before = _current()
    wanted = "3" if before != "3" else "1"
    with transaction.atomic():
        planner.for_transaction(NAME, wanted)
        assert _current() == wanted
    assert _current() == before
