import time

from django.core.management.base import BaseCommand
from django.db import transaction

from pairing import tallies


class Command(BaseCommand):
    help = (
        "根据全部未结束的联户关系重新计算覆盖情况页使用的干部联户数汇总（每名干部在各县的联系户数、帮扶户数），"
        "以及据此和干部信息汇总的干部联户状况人数。"
        "可重复执行，结果相同；批量写入联户关系后或怀疑汇总数有误时运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只重新计算并报告行数，不保存")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        started = time.perf_counter()
        with transaction.atomic():
            before = tallies.kept()
            written = tallies.rebuild()
            differing = _differing(before, tallies.kept())
            transaction.set_rollback(dry_run)  # a dry run counts the rows, then keeps nothing
        if verbosity:
            prefix = "（试运行，未保存）" if dry_run else ""
            self.stdout.write(
                self.style.SUCCESS(
                    f"{prefix}已重新计算：干部联户数汇总 {written} 条，其中与原汇总不同 {differing} 条"
                    f"（{time.perf_counter() - started:.1f} 秒）"
                )
            )


def _differing(before: dict, after: dict) -> int:
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
