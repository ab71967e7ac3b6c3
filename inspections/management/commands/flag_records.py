"""Look for records that point at fabrication (inspections.flags); cron-safe: a second run adds nothing."""

import datetime
import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from inspections import flags


class Command(BaseCommand):
    help = (
        "筛查疑似弄虚作假的走访记录（雷同日记、不可能的一天、外出务工户入户走访、集中代录、群众评议与日记不符）。"
        "可重复执行：已发现的疑点不会重复生成，适合定时任务。"
        "--since 日期：只看该日以来录入的走访（及采集的评议票）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="YYYY-MM-DD：只看该日以来录入的走访")
        parser.add_argument(
            "--json",
            action="store_true",
            help="输出一个 JSON 对象：created（新增）、open（待核查）及各类数量",
        )
        parser.add_argument("--dry-run", action="store_true", help="试运行：报告将新增的疑点，不保存")

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
