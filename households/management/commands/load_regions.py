import csv
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from households.models import Region

DEFAULT_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "regions" / "gansu_divisions_2021.csv"
BATCH_SIZE = 2000


class Command(BaseCommand):
    help = (
        "载入甘肃省统计用区划代码（省、市、县、乡、村五级）。"
        "可重复执行：只新增或更新名称，不改动贫困县/贫困村标记。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=DEFAULT_FIXTURE, help="CSV: code,name,level,parent_code"
        )
        parser.add_argument("--dry-run", action="store_true", help="只读取并核对，不写入数据库")

    def handle(self, *args, file: Path, dry_run: bool, verbosity: int, **options):
        rows = self.read(file)
        existing = dict(Region.objects.values_list("code", "name"))
        new = sum(1 for row in rows if row.code not in existing)
        renamed = sum(1 for row in rows if row.code in existing and existing[row.code] != row.name)
        if not dry_run:
            with transaction.atomic():
                # Parents precede children in the file (sorted by code), and
                # update_conflicts keeps is_poor, which only offices set.
                Region.objects.bulk_create(
                    rows,
                    batch_size=BATCH_SIZE,
                    update_conflicts=True,
                    unique_fields=["code"],
                    update_fields=["name", "level", "parent"],
                )
        if verbosity:
            prefix = "（试运行，未写入）" if dry_run else ""
            self.stdout.write(
                f"{prefix}区划 {len(rows)} 条：新增 {new}，更名 {renamed}，未变 {len(rows) - new - renamed}"
            )

    def read(self, file: Path) -> list[Region]:
        if not file.exists():
            raise CommandError(f"找不到区划文件：{file}")
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
            if missing:
                raise CommandError(f"区划文件缺少列：{'、'.join(sorted(missing))}")
            rows = []
            levels = set(Region.Level.values)
            for line, record in enumerate(reader, start=2):
                code = record["code"].strip()
                if len(code) != 12 or not code.isdigit() or record["level"] not in levels:
                    raise CommandError(f"区划文件第 {line} 行无效：{record}")
                rows.append(
                    Region(
                        code=code,
                        name=record["name"].strip(),
                        level=record["level"],
                        parent_id=record["parent_code"].strip() or None,
                    )
                )
        return rows
