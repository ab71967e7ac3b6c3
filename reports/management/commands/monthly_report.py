import datetime
import json as json_module
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from households.models import Region
from reports import figures, selectors
from reports.offices import Office


class Command(BaseCommand):
    help = (
        "计算一个区域某月的月报告数据（只计算，不起草、不报送）。"
        "--json 输出一个 JSON 对象（键名稳定，供其他系统读取）；--xlsx 写出与页面相同的 Excel 工作簿。"
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="月份，格式 YYYY-MM")
        parser.add_argument(
            "--scope", required=True, help="区域统计用区划代码（12 位，或省 2 位、市 4 位、县 6 位、乡 9 位）"
        )
        parser.add_argument("--json", action="store_true", help="输出 JSON")
        parser.add_argument("--xlsx", metavar="FILE", help="写出 Excel 工作簿到该文件")

    def handle(self, *args, month: str, scope: str, json: bool, xlsx: str | None, verbosity: int, **options):
        try:
            day = datetime.datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise CommandError(f"月份“{month}”格式不对，应为 YYYY-MM，例如 2025-05") from None
        region = Region.objects.filter(
            code=scope.ljust(12, "0"), level__in=("province", "city", "county", "township")
        ).first()
        if region is None or not scope.isdigit():
            raise CommandError(f"找不到区划代码为“{scope}”的省、市、县或乡镇")
        office = Office(region=region)
        if xlsx:
            page = selectors.report_page(office, day, None)
            with open(xlsx, "wb") as target:
                target.write(selectors.report_workbook(page))
            if verbosity and not json:
                self.stdout.write(self.style.SUCCESS(f"已写出 {xlsx}"))
            computed = {"month": {line.key: line.month for line in page["lines"]}}
        else:
            computed = figures.compute(office, day)
        if json:
            named = {figures.JSON_NAMES.get(key, key): value for key, value in computed["month"].items()}
            self.stdout.write(_json(named))
        elif not xlsx:
            names = figures.names()
            self.stdout.write(f"{office.name} {day.year}年{day.month}月")
            for key, value in computed["month"].items():
                self.stdout.write(f"  {names[key][0]}：{'—' if value is None else value} {names[key][2]}")


def _number(value):
    """Money as a number in JSON (the stored form is a 2-place string)."""
    if isinstance(value, str):
        return float(Decimal(value))
    return value


def _json(values: dict) -> str:
    return json_module.dumps(
        {key: _number(value) for key, value in values.items()}, ensure_ascii=False, sort_keys=True
    )
