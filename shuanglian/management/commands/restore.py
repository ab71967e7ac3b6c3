from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shuanglian.lib import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database, which must be a new, "
        "empty one (no tables). Compare `manage.py db_fingerprint` of the old and the new database after."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default="default")

    def handle(self, *, file, database, verbosity, **options):
        try:
            backup.restore(file, alias=database)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        if verbosity:
            self.stdout.write(f"已从 {file} 恢复")
