import time

from django.core.management.base import BaseCommand
from django.db import transaction

from visits import tallies


class Command(BaseCommand):
    help = (
        "根据全部走访记录和单位联村走访记录重新计算工作清单和月报告使用的汇总数（农户最近联系日期、干部对每户的年度走访次数、"
        "单位对每村的年度走访次数、每村和每个单位的月度走访统计）。可重复执行，结果相同；批量写入走访记录后或怀疑汇总数有误时运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只重新计算并报告行数，不保存")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        started = time.perf_counter()
        with transaction.atomic():
            written = tallies.rebuild()
            transaction.set_rollback(dry_run)  # a dry run counts the rows, then keeps nothing
        if verbosity:
            prefix = "（试运行，未保存）" if dry_run else ""
            self.stdout.write(
                self.style.SUCCESS(
                    f"{prefix}已重新计算：农户最近联系 {written['households']} 户，"
                    f"干部年度走访 {written['visit_tallies']} 条，"
                    f"单位年度联村走访 {written['unit_visit_tallies']} 条，"
                    f"村月度统计 {written['village_months']} 条，单位月度统计 {written['unit_months']} 条"
                    f"（{time.perf_counter() - started:.1f} 秒）"
                )
            )
