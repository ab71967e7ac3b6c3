"""End import batches whose worker died or that ran past the time limit (cron)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from imports.upkeep import reclaim_stuck_batches


class Command(BaseCommand):
    help = (
        "把后台进程已退出、或超过 SHUANGLIAN_IMPORT_TIME_LIMIT_MINUTES 仍未完成的导入批次标为“失败”，"
        "用户可重新检查。Run from cron every few minutes; each worker also runs it when it starts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list the stuck batches; change nothing")

    def handle(self, *args, dry_run, verbosity, **options):
        with transaction.atomic():
            reclaimed = reclaim_stuck_batches(dry_run=dry_run)
        if verbosity >= 2 or (verbosity >= 1 and reclaimed):
            verb = "将标为失败" if dry_run else "已标为失败"
            self.stdout.write(f"{verb}的导入批次：{len(reclaimed)} 个")
            for item in reclaimed:
                self.stdout.write(
                    f"  批次 {item.batch.pk}（{item.batch.filename}，"
                    f"{item.batch.get_status_display()}）：{item.reason}"
                )
