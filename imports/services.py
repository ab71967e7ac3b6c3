"""Import operations: record a batch, check it, apply it. Each writes its own batch row."""

import hashlib
import os
import socket

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household
from pairing.models import Cadre, Pairing, VillageLink
from shuanglian import access
from shuanglian.lib.history import acting

from . import attempts, cadres, households, links, pairings
from .models import ImportBatch
from .reader import FileRefused, FileUnreadable


class NotAllowed(Exception):
    pass


# Kind → (importer, the model whose write permission it needs: the same as on the pages).
IMPORTERS = {
    ImportBatch.Kind.HOUSEHOLDS: (households.import_households, Household),
    ImportBatch.Kind.CADRES: (cadres.import_cadres, Cadre),
    ImportBatch.Kind.LINKS: (links.import_links, VillageLink),
    ImportBatch.Kind.PAIRINGS: (pairings.import_pairings, Pairing),
}


def may_import(user, kind) -> bool:
    _importer, model = IMPORTERS[kind]
    return access.may_import(user, model)


def importable_kinds(user) -> list[str]:
    return [kind for kind in IMPORTERS if may_import(user, kind)]


def _require(user, kind):
    if not may_import(user, kind):
        raise NotAllowed(
            _("用户 %(user)s 无权导入%(kind)s")
            % {"user": user.username, "kind": ImportBatch.Kind(kind).label}
        )


def create_batch(*, data: bytes, filename: str, kind: str, user) -> ImportBatch:
    """Keep the uploaded file with who sent it; nothing is read yet."""
    _require(user, kind)
    return ImportBatch.objects.create(
        kind=kind,
        filename=filename[:255],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        created_by=user,
        scope_code=access.scope_prefix(user) or "",
        running_since=timezone.now(),
    )


# A batch of the same file not yet confirmed: a second press of 上传并检查 opens it.
_UPLOAD_REPLAYS = (ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING, ImportBatch.Status.CHECKED)


@transaction.atomic
def create_batch_once(*, data: bytes, filename: str, kind: str, user) -> tuple[ImportBatch, bool]:
    """create_batch, unless this user's same file of the same kind waits unconfirmed already (the
    first press of a double click made it): (that batch, False). The user's row is locked, so
    two presses at once cannot both find none."""
    _require(user, kind)
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    earlier = (
        ImportBatch.objects.filter(
            created_by=user, kind=kind, sha256=hashlib.sha256(data).hexdigest(), status__in=_UPLOAD_REPLAYS
        )
        .defer("content")
        .order_by("-pk")
        .first()
    )
    if earlier:
        return earlier, False
    return create_batch(data=data, filename=filename, kind=kind, user=user), True


def worker_name() -> str:
    """This process, as recorded on the batch it works on: reclaim tells a dead one by it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(batch: ImportBatch, *, statuses, status, **fields) -> bool:
    """Take the batch for this process if it is in one of `statuses` and nobody works on it:
    one conditional UPDATE, so two workers (or a job delivered twice) never both run it."""
    values = {"status": status, "worker": worker_name(), "running_since": timezone.now(), **fields}
    if not ImportBatch.objects.filter(pk=batch.pk, status__in=statuses, worker="").update(**values):
        return False
    for name, value in values.items():
        setattr(batch, name, value)
    return True


def _finish(batch: ImportBatch, fields: list[str], *, even_if_reclaimed=False) -> bool:
    """Write the outcome and let go of the batch, if it is still ours. A batch reclaimed meanwhile
    (past the time limit) keeps its 失败, unless rows were written: the record must say so."""
    values = {name: getattr(batch, name) for name in fields}
    values["worker"] = ""
    mine = ImportBatch.objects.filter(pk=batch.pk, worker=batch.worker)
    written = mine.update(**values) or (
        even_if_reclaimed and ImportBatch.objects.filter(pk=batch.pk).update(**values)
    )
    batch.worker = ""
    return bool(written)


def _fail(batch: ImportBatch, message: str):
    ImportBatch.objects.filter(pk=batch.pk, worker=batch.worker).update(
        status=ImportBatch.Status.FAILED, message=message, worker=""
    )
    batch.status, batch.message, batch.worker = ImportBatch.Status.FAILED, message, ""


def _progress(batch):
    def report(rows):
        ImportBatch.objects.filter(pk=batch.pk).update(rows_read=rows)

    return report


def _run(batch: ImportBatch, *, user, dry_run: bool):
    importer, _model = IMPORTERS[batch.kind]
    try:
        # Rows saved one by one (cadres, links, pairings, changed households) are recorded as the
        # user's; rows written in bulk (new households and members) are recorded by the batch itself.
        with acting(user):
            result = importer(
                bytes(batch.content),
                user=user,
                filename=batch.filename,
                dry_run=dry_run,
                progress=_progress(batch),
            )
    except FileRefused as error:
        # The reader's own refusals (a limit, a hostile part, out of memory or time) fail the
        # batch; the file's content (no header, not a spreadsheet) is an error the user fixes.
        unreadable = isinstance(error, FileUnreadable)
        batch.status = ImportBatch.Status.FAILED if unreadable else ImportBatch.Status.REFUSED
        batch.message = str(error)
        batch.report = {}
        return None
    attempts.record(result, user=user, filename=batch.filename, batch=batch)
    batch.report = result.as_report()
    batch.rows_read = result.rows
    batch.message = (
        result.summary() if result.ok else _("共 %(n)d 处错误，未写入任何数据") % {"n": result.error_count}
    )
    return result


def check_batch(*, batch: ImportBatch):
    """Read and compare the whole file without writing: the preview. A batch that is not
    queued (checked already, taken by another worker, or reclaimed) is left alone."""
    _require(batch.created_by, batch.kind)
    if not _claim(batch, statuses=[ImportBatch.Status.QUEUED], status=ImportBatch.Status.CHECKING):
        return None
    try:
        result = _run(batch, user=batch.created_by, dry_run=True)
    except Exception:
        _fail(batch, _("检查时发生内部错误（已记入日志）；可点击“重新检查”再试，仍不行请联系管理员"))
        raise
    if result is not None:
        batch.status = ImportBatch.Status.CHECKED if result.ok else ImportBatch.Status.REFUSED
    batch.checked_at = timezone.now()
    _finish(batch, ["status", "message", "report", "rows_read", "checked_at"])
    return result


def apply_batch(*, batch: ImportBatch, user):
    """Check again (the database may have changed since the preview) and write everything or nothing."""
    _require(user, batch.kind)
    if not _claim(
        batch,
        statuses=[ImportBatch.Status.CHECKED, ImportBatch.Status.APPLYING],
        status=ImportBatch.Status.APPLYING,
        confirmed_by=user,
    ):
        current = ImportBatch.objects.get(pk=batch.pk)
        raise NotAllowed(
            _("该批次当前状态为“%(status)s”，不能导入") % {"status": current.get_status_display()}
        )
    try:
        result = _run(batch, user=user, dry_run=False)
    except Exception:
        _fail(
            batch, _("导入时发生内部错误（已记入日志），导入未完成；可点击“重新检查”再试，仍不行请联系管理员")
        )
        raise
    if result is not None and result.applied:
        batch.status = ImportBatch.Status.DONE
        batch.applied_at = timezone.now()
        batch.created_households = result.created_household_ids
    elif result is not None:
        batch.status = ImportBatch.Status.REFUSED
    _finish(
        batch,
        ["status", "message", "report", "rows_read", "applied_at", "created_households"],
        even_if_reclaimed=result is not None and result.applied,
    )
    return result


def confirm_batch(*, batch: ImportBatch, user) -> bool:
    """确认导入: move a checked batch to 导入中 for `user`. True when this call did (the caller
    enqueues the import), False when an earlier press already had (a double click, a second tab:
    `batch` is refreshed to show how far that one got). Refuses (NotAllowed) a batch whose file
    was deleted, or one in another status.

    Only the press whose conditional UPDATE moves the batch out of 待确认 confirms it: two presses
    at once cannot both pass a check made before the write."""
    _require(user, batch.kind)
    if batch.content_deleted_at is not None:
        raise NotAllowed(_("上传的文件已在保留期满后删除，不能导入；请重新上传"))
    values = {"status": ImportBatch.Status.APPLYING, "confirmed_by": user, "running_since": timezone.now()}
    if ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.CHECKED).update(**values):
        for name, value in values.items():
            setattr(batch, name, value)
        return True
    batch.refresh_from_db(fields=["status", "confirmed_by"])
    if batch.confirmed_by_id:
        return False
    raise NotAllowed(_("该批次当前状态为“%(status)s”，不能导入") % {"status": batch.get_status_display()})


def retry_batch(*, batch: ImportBatch, user) -> bool:
    """Queue a failed batch for a new check; False when it is not failed (a second press) and
    nothing is done. The caller enqueues the check."""
    _require(user, batch.kind)
    if batch.content_deleted_at is not None:
        raise NotAllowed(_("上传的文件已在保留期满后删除，不能重试；请重新上传"))
    return bool(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.FAILED, worker="").update(
            status=ImportBatch.Status.QUEUED,
            message="",
            report={},
            rows_read=0,
            checked_at=None,
            running_since=timezone.now(),
        )
    )


def run_import(*, data: bytes, filename: str, kind: str, user, dry_run: bool):
    """The command line's path: check and write in one go. A dry run records no batch."""
    _require(user, kind)
    importer, _model = IMPORTERS[kind]
    if dry_run:
        result = importer(data, user=user, filename=filename, dry_run=True)
        attempts.record(result, user=user, filename=filename)
        return None, result
    batch = create_batch(data=data, filename=filename, kind=kind, user=user)
    # Claimed by this process, so that a command killed half-way leaves a batch reclaim can end.
    _claim(batch, statuses=[ImportBatch.Status.QUEUED], status=ImportBatch.Status.APPLYING, confirmed_by=user)
    try:
        result = _run(batch, user=user, dry_run=False)
    except Exception:
        _fail(batch, _("导入时发生内部错误，导入未完成"))
        raise
    fields = ["status", "message", "report", "rows_read", "applied_at", "created_households"]
    if result is None:
        _finish(batch, fields)
        refusal = FileUnreadable if batch.status == ImportBatch.Status.FAILED else FileRefused
        raise refusal(batch.message)
    batch.status = ImportBatch.Status.DONE if result.applied else ImportBatch.Status.REFUSED
    if result.applied:
        batch.applied_at = timezone.now()
        batch.created_households = result.created_household_ids
    _finish(batch, fields, even_if_reclaimed=result.applied)
    return batch, result
