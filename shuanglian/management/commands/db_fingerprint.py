import json as json_module

from django.core.management.base import BaseCommand

from shuanglian.lib import backup


class Command(BaseCommand):
    help = (
        "Print every table's row count and a SHA-256 of its rows in key order (one JSON object with --json). "
        "The same output from two databases means they hold the same record: run it before a backup "
        "and after its restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument("--json", action="store_true")

    def handle(self, *, database, json: bool, **options):
        tables = backup.fingerprint(alias=database)
        if json:
            self.stdout.write(json_module.dumps({name: list(value) for name, value in tables.items()}))
            return
        for name, (count, digest) in tables.items():
            self.stdout.write(f"{name}\t{count}\t{digest}")
