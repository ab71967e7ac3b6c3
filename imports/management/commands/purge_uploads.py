"""Drop the files of import batches and finished exports past the retention period (cron), keeping
the batches and the jobs."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from imports.upkeep import purge_exports, purge_uploads


class Command(BaseCommand):
    help = (
        "删除上传超过 SHUANGLIAN_UPLOAD_RETENTION_DAYS 天（默认 90 天）的名册文件内容（含完整身份证号），"
        "保留批次记录和检查结果；完成超过同一天数的后台导出文件也一并删除，导出任务标为已过期。"
        "Run from cron daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list the files that would be deleted; change nothing"
        )

    def handle(self, *args, dry_run, verbosity, **options):
        with transaction.atomic():
            batches = purge_uploads(dry_run=dry_run)
            jobs = purge_exports(dry_run=dry_run)
        days = settings.SHUANGLIAN_UPLOAD_RETENTION_DAYS
        if verbosity >= 1:
            verb = "将删除" if dry_run else "已删除"
            self.stdout.write(f"{verb}上传超过 {days} 天的文件：{len(batches)} 个")
            self.stdout.write(f"{verb}完成超过 {days} 天的导出文件：{len(jobs)} 个")
        if verbosity >= 2:
            for batch in batches:
                self.stdout.write(
                    f"  批次 {batch.pk}：{batch.filename}"
                    f"（{batch.created_at:%Y-%m-%d} 上传，{batch.size} 字节）"
                )
            for job in jobs:
                self.stdout.write(f"  导出 {job.pk}：{job.filename}（{job.finished_at:%Y-%m-%d} 完成）")
