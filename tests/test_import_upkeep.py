"""Batches never stay stuck (a dead worker's or a too-long batch becomes 失败 and can be tried
again), and uploaded files are dropped after the retention period, the batch kept."""

import datetime
import os
import socket
import subprocess
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from households.models import Household
from imports import services, upkeep
from imports.models import ImportBatch
from tests.test_import_households import family, household_workbook
from tests.test_import_pages import upload, work

HOST = socket.gethostname()


@pytest.fixture
def dead_pid():
    """The pid of a process of this host that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def live_pid():
    process = subprocess.Popen(["sleep", "300"])
    yield process.pid
    process.kill()
    process.wait()


def roster():
    return household_workbook([family(1), family(2, "李四")])


def stuck(batch, *, status, worker="", minutes_ago=0):
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=status, worker=worker, running_since=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    batch.refresh_from_db()
    return batch


def new_batch(world):
    return services.create_batch(
        data=roster(), filename="马营镇.xlsx", kind="households", user=world.users.town_a
    )


def test_a_batch_whose_worker_died_mid_apply_fails_when_a_worker_starts_and_can_be_tried_again(
    client, world, dead_pid
):
    """The reported case: the worker killed while applying left the batch 导入中 for ever and a
    new confirmation was refused."""
    client.force_login(world.users.town_a)
    batch = upload(client, roster())
    work()
    stuck(batch, status=ImportBatch.Status.APPLYING, worker=f"{HOST}:{dead_pid}")
    response = client.post(reverse("imports:confirm", args=[batch.pk]))
    assert response.status_code == 302 and not Household.objects.filter(head_name="李四").exists()

    work()  # a new worker starts: it reclaims before taking jobs
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and batch.worker == ""
    assert f"{HOST}:{dead_pid}" in batch.message and "导入中途退出" in batch.message
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "失败" in page and "中途退出" in page and reverse("imports:retry", args=[batch.pk]) in page

    client.post(reverse("imports:retry", args=[batch.pk]))
    work()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKED
    client.post(reverse("imports:confirm", args=[batch.pk]))
    work()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and Household.objects.filter(head_name="李四").exists()


def test_a_live_worker_keeps_its_batch_until_the_time_limit(world, live_pid):
    batch = stuck(
        new_batch(world), status=ImportBatch.Status.CHECKING, worker=f"{HOST}:{live_pid}", minutes_ago=59
    )
    call_command("reclaim_batches", verbosity=0)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKING
    stuck(batch, status=ImportBatch.Status.CHECKING, worker=f"{HOST}:{live_pid}", minutes_ago=61)
    call_command("reclaim_batches", verbosity=0)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "检查超过 60 分钟仍未完成" in batch.message


def test_another_hosts_worker_is_judged_by_the_time_limit_only(world):
    batch = stuck(new_batch(world), status=ImportBatch.Status.APPLYING, worker="elsewhere:1", minutes_ago=5)
    call_command("reclaim_batches", verbosity=0)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLYING
    with override_settings(SHUANGLIAN_IMPORT_TIME_LIMIT_MINUTES=4):
        call_command("reclaim_batches", verbosity=0)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "导入超过 4 分钟仍未完成" in batch.message


def test_a_batch_queued_past_the_time_limit_fails(world):
    """A job lost before any worker took the batch (the worker died between the two claims)."""
    queued = stuck(new_batch(world), status=ImportBatch.Status.QUEUED, minutes_ago=61)
    fresh = new_batch(world)
    call_command("reclaim_batches", verbosity=0)
    queued.refresh_from_db()
    fresh.refresh_from_db()
    assert queued.status == ImportBatch.Status.FAILED and fresh.status == ImportBatch.Status.QUEUED


def test_the_reclaim_command_lists_and_has_a_dry_run(world, dead_pid, capsys):
    batch = stuck(new_batch(world), status=ImportBatch.Status.CHECKING, worker=f"{HOST}:{dead_pid}")
    call_command("reclaim_batches", "--dry-run")
    assert "将标为失败的导入批次：1 个" in capsys.readouterr().out
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKING
    call_command("reclaim_batches")
    out = capsys.readouterr().out
    assert "已标为失败的导入批次：1 个" in out and f"批次 {batch.pk}（马营镇.xlsx，检查中）" in out
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED


def test_a_job_for_a_batch_no_longer_queued_does_nothing(world):
    """A reclaimed batch whose job runs late, or a job delivered twice, leaves the batch alone."""
    batch = stuck(new_batch(world), status=ImportBatch.Status.FAILED)
    assert services.check_batch(batch=batch) is None
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED


def test_a_batch_another_worker_applies_is_not_applied_twice(world, live_pid):
    batch = stuck(new_batch(world), status=ImportBatch.Status.APPLYING, worker=f"{HOST}:{live_pid}")
    with pytest.raises(services.NotAllowed):
        services.apply_batch(batch=batch, user=world.users.town_a)


def test_an_unexpected_error_fails_the_batch_with_a_message(world):
    batch = new_batch(world)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    with (
        mock.patch.dict(services.IMPORTERS, {"households": (broken, Household)}),
        pytest.raises(RuntimeError),
    ):
        services.check_batch(batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "内部错误" in batch.message and batch.worker == ""


def test_retry_pressed_twice_queues_one_check(client, world):
    client.force_login(world.users.town_a)
    batch = stuck(upload(client, roster()), status=ImportBatch.Status.FAILED)
    DBTaskResult.objects.all().delete()
    client.post(reverse("imports:retry", args=[batch.pk]))
    client.post(reverse("imports:retry", args=[batch.pk]))
    assert DBTaskResult.objects.count() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.QUEUED


def age(batch, days):
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))


def test_uploads_past_the_retention_period_lose_their_file_not_their_record(client, world):
    client.force_login(world.users.town_a)
    old = upload(client, roster())
    work()
    young = new_batch(world)
    running = stuck(new_batch(world), status=ImportBatch.Status.CHECKING, worker="elsewhere:1")
    for batch in (old, running):
        age(batch, 91)
    age(young, 89)
    old.refresh_from_db()
    report = old.report

    call_command("purge_uploads", "--dry-run", verbosity=0)
    old.refresh_from_db()
    assert bytes(old.content) and old.content_deleted_at is None

    call_command("purge_uploads", verbosity=0)
    for batch in (old, young, running):
        batch.refresh_from_db()
    assert bytes(old.content) == b"" and old.content_deleted_at is not None
    assert old.report == report and old.status == ImportBatch.Status.CHECKED and old.sha256 and old.size
    assert bytes(young.content) and bytes(running.content)

    page = client.get(reverse("imports:detail", args=[old.pk])).content.decode()
    assert "上传的文件已在上传 91 天后" in page
    response = client.post(reverse("imports:confirm", args=[old.pk]), follow=True)
    assert "文件已在保留期满后删除" in response.content.decode()
    old.refresh_from_db()
    assert old.status == ImportBatch.Status.CHECKED


def test_purged_batches_offer_no_error_workbook_or_retry(client, world):
    client.force_login(world.users.town_a)
    data = "县,乡镇,村,户主姓名,身份证号码,户属性\n通渭县,马营镇,东关村,张三,123,一般贫困户\n".encode()
    batch = upload(client, data, name="a.csv")
    work()
    assert client.get(reverse("imports:errors", args=[batch.pk])).status_code == 200
    age(batch, 100)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED)
    call_command("purge_uploads", verbosity=0)
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert (
        reverse("imports:errors", args=[batch.pk]) not in page
        and reverse("imports:retry", args=[batch.pk]) not in page
    )
    assert client.get(reverse("imports:errors", args=[batch.pk])).status_code == 404
    response = client.post(reverse("imports:retry", args=[batch.pk]), follow=True)
    assert "不能重试" in response.content.decode()


@override_settings(SHUANGLIAN_UPLOAD_RETENTION_DAYS=30)
def test_the_retention_period_is_a_setting(world, capsys):
    batch = new_batch(world)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.DONE)
    age(batch, 31)
    call_command("purge_uploads")
    assert "已删除上传超过 30 天的文件：1 个" in capsys.readouterr().out
    batch.refresh_from_db()
    assert batch.content_deleted_after_days == 31


def test_a_batch_being_applied_carries_its_process_which_reclaim_judges(world):
    """What a killed worker leaves behind: while the importer runs, the batch row says 导入中 and
    names this host and process, the state the tests above give a dead process's batch."""
    batch = new_batch(world)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.CHECKED)
    real, _model = services.IMPORTERS["households"]
    seen = {}

    def watched(*args, **kwargs):
        row = ImportBatch.objects.get(pk=batch.pk)
        seen.update(status=row.status, worker=row.worker)
        seen["stuck"] = [item.batch.pk for item in upkeep.stuck_batches()]
        return real(*args, **kwargs)

    with mock.patch.dict(services.IMPORTERS, {"households": (watched, Household)}):
        services.apply_batch(batch=batch, user=world.users.town_a)
    assert seen["status"] == ImportBatch.Status.APPLYING and seen["worker"] == f"{HOST}:{os.getpid()}"
    # Reclaim run by this very process (a worker starting, whose pid the dead one had) takes it.
    assert seen["stuck"] == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and batch.worker == ""
