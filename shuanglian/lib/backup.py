"""Backups of the whole database, and a fingerprint that proves a restore is complete.

PostgreSQL: pg_dump's custom format (compressed; `pg_restore` restores it, table by table, into an
empty database). SQLite: the online backup API, which copies a consistent snapshot while the app
keeps running. The fingerprint counts every table's rows and hashes every row's columns in key order,
so the same figures from the old and the restored database mean the restore lost nothing.
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connections


class BackupError(Exception):
    """A backup or restore that could not be made; the message is for the operator."""


def _pg_tool(name: str) -> str:
    """The PostgreSQL client of the server's major version where Debian keeps it, else PATH's."""
    configured = getattr(settings, "PG_BIN", "")
    candidates = [Path(configured) / name] if configured else []
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 {name}：请安装 PostgreSQL 客户端（postgresql-client）或设置 SHUANGLIAN_PG_BIN"
        )
    return found


def _pg_args_and_env(alias: str) -> tuple[list[str], dict]:
    db = connections[alias].settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} 失败：{result.stderr.strip()[-2000:]}")


def backup(path: Path, *, alias: str = "default") -> None:
    """Write a backup of database `alias` to `path` (replaced if it exists)."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        args, env = _pg_args_and_env(alias)
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), *args], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")


def _has_tables(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        return bool(connections[alias].introspection.table_names(cursor))


def restore(path: Path, *, alias: str = "default") -> None:
    """Restore the backup at `path` into database `alias`, which must be empty (no tables):
    restoring over live data would mix two states of the record."""
    if not Path(path).is_file():
        raise BackupError(f"备份文件不存在：{path}")
    if _has_tables(alias):
        raise BackupError("目标数据库不是空的：请恢复到一个新建的空数据库")
    connection = connections[alias]
    if connection.vendor == "postgresql":
        args, env = _pg_args_and_env(alias)
        _run([_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", *args, str(path)], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")


def fingerprint(*, alias: str = "default") -> dict[str, tuple[int, str]]:
    """Every table's row count and a SHA-256 of its rows, read in primary-key order.

    Values are hashed through their text form, which both databases give alike for the same data
    read back by the same backend, so a backup and its restore compare equal.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            columns = [
                column.name for column in connection.introspection.get_table_description(cursor, table)
            ]
            key = connection.introspection.get_primary_key_columns(cursor, table) or columns
            order = ", ".join(quote(column) for column in key)
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")  # noqa: S608 - names from introspection
            digest = hashlib.sha256()
            count = 0
            while rows := cursor.fetchmany(5000):
                for row in rows:
                    digest.update(repr(row).encode())
                    count += 1
            result[table] = (count, digest.hexdigest())
    return result
