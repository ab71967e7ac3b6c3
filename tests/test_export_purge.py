"""purge_uploads also drops the files of background exports finished past the retention period:
the job stays, marked 已过期, and its page says so instead of offering (or failing on) the file."""

import datetime

from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from imports.models import ExportJob


def _job(world, *, days, status=ExportJob.Status.DONE, content=b"PK-workbook"):
    job = ExportJob.objects.create(
        builder="imports.exports.household_roster",
        label="农户名册",
        filename="农户名册.xlsx",
        created_by=world.users.town_a,
    )
    finished = timezone.now() - datetime.timedelta(days=days)
    ExportJob.objects.filter(pk=job.pk).update(status=status, content=content, finished_at=finished)
    return job


def test_exports_finished_past_the_retention_period_lose_their_file_and_say_so(client, world, capsys):
    old = _job(world, days=91)
    young = _job(world, days=89)
    running = _job(world, days=200, status=ExportJob.Status.RUNNING, content=None)

    call_command("purge_uploads", "--dry-run")
    assert "将删除完成超过 90 天的导出文件：1 个" in capsys.readouterr().out
    old.refresh_from_db()
    assert old.status == ExportJob.Status.DONE and bytes(old.content)

    call_command("purge_uploads")
    assert "已删除完成超过 90 天的导出文件：1 个" in capsys.readouterr().out
    for job in (old, young, running):
        job.refresh_from_db()
    assert old.status == ExportJob.Status.EXPIRED and old.content is None
    assert young.status == ExportJob.Status.DONE and bytes(young.content)
    assert running.status == ExportJob.Status.RUNNING

    client.force_login(world.users.town_a)
    page = client.get(reverse("imports:export_detail", args=[old.pk])).content.decode()
    assert "已过期" in page and "请重新导出" in page
    assert reverse("imports:export_download", args=[old.pk]) not in page
    download = client.get(reverse("imports:export_download", args=[old.pk]), follow=True)
    assert download.status_code == 200 and "已过期" in download.content.decode()
    assert client.get(reverse("imports:export_status", args=[old.pk])).json()["label"] == "已过期"

    call_command("purge_uploads")  # a second run finds nothing more
    assert "已删除完成超过 90 天的导出文件：0 个" in capsys.readouterr().out


@override_settings(SHUANGLIAN_UPLOAD_RETENTION_DAYS=30)
def test_the_exports_follow_the_same_retention_setting(world):
    old, young = _job(world, days=31), _job(world, days=29)
    call_command("purge_uploads", verbosity=0)
    assert ExportJob.objects.get(pk=old.pk).status == ExportJob.Status.EXPIRED
    assert ExportJob.objects.get(pk=young.pk).status == ExportJob.Status.DONE
