from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shuanglian.lib import backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE: pg_dump's custom format on PostgreSQL, SQLite's online "
        "backup on SQLite. Safe while the app runs. Restore with `manage.py restore FILE`."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default="default")

    def handle(self, *, file, database, verbosity, **options):
        try:
            backup.backup(file, alias=database)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        if verbosity:
            self.stdout.write(f"已备份到 {file}（{file.stat().st_size:,} 字节）")
