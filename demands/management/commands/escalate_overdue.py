from django.core.management.base import BaseCommand

from demands import services
from demands.models import Level


class Command(BaseCommand):
    help = (
        "把逾期未办结的诉求逐条上报一级（帮扶干部→帮扶单位→乡镇→县→市→省双联办），"
        "并写入自动上报记录（理由：逾期未办结）。"
        "可重复执行：同一天再次执行不会改变任何数据，可放入 cron 每隔几分钟运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只统计将上报的诉求，不写入")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        moved = services.escalate_overdue(dry_run=dry_run)
        if not verbosity:
            return
        total = sum(moved.values())
        prefix = "（试运行，未写入）" if dry_run else ""
        if not total:
            self.stdout.write(f"{prefix}没有需要上报的逾期诉求。")
            return
        self.stdout.write(self.style.SUCCESS(f"{prefix}已将 {total} 件逾期诉求上报一级："))
        for (lower, upper), count in sorted(moved.items(), key=lambda item: Level.values.index(item[0][0])):
            self.stdout.write(f"  {Level(lower).label} → {Level(upper).label}：{count} 件")
