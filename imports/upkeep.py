"""Periodic care of import batches: end the ones whose worker is gone, drop old files (uploads,
and the workbooks of finished background exports).

Both run from cron (`manage.py reclaim_batches`, `manage.py purge_uploads`); reclaim also
runs when a worker starts (`imports/management/commands/db_worker.py`).
"""

import datetime
import os
import socket
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import RUNNING, ExportJob, ImportBatch


@dataclass
class Reclaimed:
    batch: ImportBatch
    reason: str


def _dead_here(worker: str) -> bool:
    """Whether `worker` ("host:pid") names a process of this host that no longer runs. This
    process counts as dead: it works on no batch while it reclaims, and a restarted container
    often gives its new worker the pid of the one that died."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another account
        return False
    return False


def stuck_batches(*, now=None) -> list[Reclaimed]:
    """Batches waiting or worked on whose process died (on this host) or that have been at it
    longer than SHUANGLIAN_IMPORT_TIME_LIMIT_MINUTES (on any host)."""
    now = now or timezone.now()
    minutes = settings.SHUANGLIAN_IMPORT_TIME_LIMIT_MINUTES
    deadline = now - datetime.timedelta(minutes=minutes)
    found = []
    candidates = ImportBatch.objects.filter(status__in=RUNNING).defer("content", "report").order_by("pk")
    for batch in candidates:
        step = _("检查") if batch.status != ImportBatch.Status.APPLYING else _("导入")
        if batch.worker and _dead_here(batch.worker):
            reason = _(
                "处理该批次的后台进程（%(worker)s）在%(step)s中途退出，%(step)s未完成；可点击“重新检查”再试"
            ) % {"worker": batch.worker, "step": step}
        elif batch.running_since is None or batch.running_since < deadline:
            reason = _("%(step)s超过 %(minutes)d 分钟仍未完成，已停止等待；可点击“重新检查”再试") % {
                "step": step,
                "minutes": minutes,
            }
        else:
            continue
        found.append(Reclaimed(batch, reason))
    return found


def reclaim_stuck_batches(*, now=None, dry_run=False) -> list[Reclaimed]:
    """Mark stuck batches 失败 with the reason, so their users may try again. Each update is
    conditional on the batch being as it was found: a worker that finished meanwhile wins."""
    done = []
    for item in stuck_batches(now=now):
        batch = item.batch
        if not dry_run:
            updated = ImportBatch.objects.filter(
                pk=batch.pk,
                status=batch.status,
                worker=batch.worker,
                running_since=batch.running_since,
            ).update(status=ImportBatch.Status.FAILED, message=item.reason, worker="")
            if not updated:
                continue
        done.append(item)
    return done


def expired_uploads(*, now=None):
    """Batches whose file was uploaded more than SHUANGLIAN_UPLOAD_RETENTION_DAYS ago and is still
    kept; a batch still waiting or worked on keeps its file until it ends."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.SHUANGLIAN_UPLOAD_RETENTION_DAYS)
    return (
        ImportBatch.objects.filter(created_at__lt=cutoff, content_deleted_at__isnull=True)
        .exclude(status__in=RUNNING)
        .defer("content", "report")
        .order_by("pk")
    )


def purge_uploads(*, now=None, dry_run=False) -> list[ImportBatch]:
    """Drop the content of expired uploads, keeping each batch's record and report."""
    now = now or timezone.now()
    batches = list(expired_uploads(now=now))
    if not dry_run and batches:
        ImportBatch.objects.filter(pk__in=[b.pk for b in batches], content_deleted_at__isnull=True).exclude(
            status__in=RUNNING
        ).update(content=b"", content_deleted_at=now)
    return batches


def expired_exports(*, now=None):
    """Background exports finished more than SHUANGLIAN_UPLOAD_RETENTION_DAYS ago whose file is
    still kept: a roster workbook may carry whole IDs and phones, like an upload."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.SHUANGLIAN_UPLOAD_RETENTION_DAYS)
    return (
        ExportJob.objects.filter(status=ExportJob.Status.DONE, finished_at__lt=cutoff)
        .defer("content")
        .order_by("pk")
    )


def purge_exports(*, now=None, dry_run=False) -> list[ExportJob]:
    """Drop the file of expired exports and mark them 已过期, keeping each job's record, so its
    page tells the requester to export again."""
    now = now or timezone.now()
    jobs = list(expired_exports(now=now))
    if not dry_run and jobs:
        ExportJob.objects.filter(pk__in=[job.pk for job in jobs], status=ExportJob.Status.DONE).update(
            status=ExportJob.Status.EXPIRED,
            content=None,
            message=_("文件已在完成 %(days)d 天后按保留期限删除，请重新导出")
            % {"days": settings.SHUANGLIAN_UPLOAD_RETENTION_DAYS},
        )
    return jobs
