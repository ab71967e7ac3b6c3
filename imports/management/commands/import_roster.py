"""Import a roster file from the command line, with the same checks as the web page."""

from pathlib import Path

from django.core.management.base import BaseCommand

from accounts.models import User
from imports import services
from imports.models import ImportBatch
from imports.reader import FileRefused, FileUnreadable


class Command(BaseCommand):
    help = (
        "导入花名册（.xlsx/.xls/.csv）：全部行都正确才写入，否则一行也不写。"
        "Exit status 0 when imported (or importable with --dry-run), 1 when refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the roster file")
        parser.add_argument(
            "--kind",
            choices=ImportBatch.Kind.values,
            default=ImportBatch.Kind.HOUSEHOLDS,
            help="households（农户及成员）、cadres（干部）、links（联村）或 pairings（结对）",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and compare only; write nothing")
        parser.add_argument("--user", help="import within this user's scope (default: an administrator's)")

    def handle(self, *args, file, kind, dry_run, user, verbosity, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            return self._refuse(f"无法读取文件 {file}：{error.strerror}")
        if user:
            account = User.objects.filter(username=user, is_active=True).first()
            if account is None:
                return self._refuse(f"没有用户名为 {user} 的在用账号")
        else:
            account = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if account is None:
                return self._refuse("数据库中没有管理员账号；请用 --user 指定导入人")
        try:
            batch, result = services.run_import(
                data=data, filename=Path(file).name, kind=kind, user=account, dry_run=dry_run
            )
        except services.NotAllowed as error:
            return self._refuse(str(error))
        except FileUnreadable as error:  # its message names the file already
            return self._refuse(f"文件被拒绝：{error}")
        except FileRefused as error:
            return self._refuse(f"文件被拒绝（{Path(file).name}）：{error}")
        if not result.ok:
            self.stderr.write(f"导入被拒绝，数据库未作任何改动。共 {result.error_count} 处错误：")
            for error in result.errors[: 50 if verbosity < 2 else None]:
                self.stderr.write(f"  {error}")
            if result.error_count > len(result.errors[:50]) and verbosity < 2:
                self.stderr.write(f"  ……其余 {result.error_count - 50} 处错误未列出")
            raise SystemExit(1)
        head = "检查通过（--dry-run，未写入）" if dry_run else f"导入完成（批次 {batch.pk}）"
        self.stdout.write(f"{head}：共读取 {result.rows} 行。{result.summary()}")
        if verbosity >= 2:
            for line in result.changes:
                self.stdout.write(f"  变更：{line}")
        for line in result.missing[: 20 if verbosity < 2 else None]:
            self.stdout.write(f"  注意：{line}")

    def _refuse(self, message):
        self.stderr.write(message)
        raise SystemExit(1)
