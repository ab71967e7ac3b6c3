"""Look for records that point at fabrication (inspections.flags); cron-safe: a second run adds nothing."""

import datetime
import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from inspections import flags


class Command(BaseCommand):
    help = (
        "Flag visit records that look fabricated (copied diaries, impossible days, home visits to households "
        "working away, bulk proxy entry, ballots against the diary). Idempotent: a flag already raised is not "
        "raised again. --since DATE looks only at the visits recorded since that day (a daily run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="YYYY-MM-DD: only visits recorded (and ballots collected) since")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object: created, open, by kind"
        )
        parser.add_argument("--dry-run", action="store_true", help="say what would be created, save nothing")

    def handle(self, *args, since=None, json=False, dry_run=False, verbosity=1, **options):
        day = None
        if since:
            try:
                day = datetime.date.fromisoformat(since)
            except ValueError:
                raise CommandError(f"--since must be a date YYYY-MM-DD, got {since!r}") from None
        log = self.stdout.write if verbosity > 1 and not json else None
        result = flags.run(since=day, dry_run=dry_run, log=log)
        if json:
            self.stdout.write(_dumps({**result, "dry_run": dry_run}))
        elif verbosity:
            self.stdout.write(
                f"created {result['created']} flags ({result['seconds']} s), {result['open']} open"
                + (" [dry run]" if dry_run else "")
            )


def _dumps(value) -> str:
    return jsonlib.dumps(value, ensure_ascii=False)
