"""Backup and restore round trip: demo → backup → restore into a new database → same record."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from shuanglian.lib.backup import fingerprint

ROOT = Path(__file__).resolve().parent.parent


def _manage(database_url, *args):
    """Run manage.py in a new process on `database_url`, as an operator restoring a backup would."""
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def new_database_url(tmp_path):
    """A new, empty database on the same server (SQLite: a new file)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{db['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.django_db(transaction=True)
def test_demo_survives_backup_and_restore(tmp_path, new_database_url):
    call_command("load_demo", verbosity=0)
    before = fingerprint()
    assert before["households_household"][0] > 2000 and before["visits_visit"][0] > 0

    path = tmp_path / "demo.backup"
    call_command("backup", str(path), verbosity=0)
    assert path.stat().st_size > 0
    _manage(new_database_url, "restore", str(path))

    after = json.loads(_manage(new_database_url, "db_fingerprint", "--json"))
    assert after == {table: list(figures) for table, figures in before.items()}


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_has_tables(tmp_path, world):
    path = tmp_path / "world.backup"
    call_command("backup", str(path), verbosity=0)
    with pytest.raises(CommandError, match="目标数据库不是空的"):
        call_command("restore", str(path), verbosity=0)


@pytest.mark.django_db
def test_restore_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="备份文件不存在"):
        call_command("restore", str(tmp_path / "nothing.backup"), verbosity=0)


@pytest.mark.django_db
def test_fingerprint_changes_when_one_value_changes(world):
    before = fingerprint()
    world.household_a.phone = "13800000000" if world.household_a.phone != "13800000000" else "13900000000"
    world.household_a.save(update_fields=["phone"])
    after = fingerprint()
    assert after["households_household"][0] == before["households_household"][0]
    assert after["households_household"][1] != before["households_household"][1]
