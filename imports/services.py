"""Import operations: record a batch, check it, apply it. Each writes its own batch row."""

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household
from pairing.models import Cadre, Pairing, VillageLink
from shuanglian.access import can_write, is_unit_liaison, scope_prefix

from . import attempts, cadres, households, links, pairings
from .models import ImportBatch
from .reader import FileRefused


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
    has_scope = scope_prefix(user) is not None or is_unit_liaison(user)
    return can_write(user, model) and has_scope


def importable_kinds(user) -> list[str]:
    return [kind for kind in IMPORTERS if may_import(user, kind)]


def _require(user, kind):
    if not may_import(user, kind):
        raise NotAllowed(_("用户 %(user)s 无权导入%(kind)s") % {"user": user.username, "kind": ImportBatch.Kind(kind).label})


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
        scope_code=scope_prefix(user) or "",
    )


def _progress(batch):
    def report(rows):
        ImportBatch.objects.filter(pk=batch.pk).update(rows_read=rows)

    return report


def _run(batch: ImportBatch, *, user, dry_run: bool):
    importer, _model = IMPORTERS[batch.kind]
    try:
        result = importer(bytes(batch.content), user=user, filename=batch.filename, dry_run=dry_run,
                          progress=_progress(batch))
    except FileRefused as error:
        batch.status = ImportBatch.Status.REFUSED
        batch.message = str(error)
        batch.report = {}
        return None
    attempts.record(result, user=user, filename=batch.filename, batch=batch)
    batch.report = result.as_report()
    batch.rows_read = result.rows
    batch.message = result.summary() if result.ok else _("共 %(n)d 处错误，未写入任何数据") % {"n": result.error_count}
    return result


def check_batch(*, batch: ImportBatch):
    """Read and compare the whole file without writing: the preview."""
    _require(batch.created_by, batch.kind)
    batch.status = ImportBatch.Status.CHECKING
    batch.save(update_fields=["status"])
    result = _run(batch, user=batch.created_by, dry_run=True)
    if result is not None:
        batch.status = ImportBatch.Status.CHECKED if result.ok else ImportBatch.Status.REFUSED
    batch.checked_at = timezone.now()
    batch.save(update_fields=["status", "message", "report", "rows_read", "checked_at"])
    return result


def apply_batch(*, batch: ImportBatch, user):
    """Check again (the database may have changed since the preview) and write everything or nothing."""
    _require(user, batch.kind)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (ImportBatch.Status.CHECKED, ImportBatch.Status.APPLYING):
            raise NotAllowed(_("该批次当前状态为“%(status)s”，不能导入") % {"status": locked.get_status_display()})
    batch.status = ImportBatch.Status.APPLYING
    batch.confirmed_by = user
    batch.save(update_fields=["status", "confirmed_by"])
    result = _run(batch, user=user, dry_run=False)
    if result is not None and result.applied:
        batch.status = ImportBatch.Status.DONE
        batch.applied_at = timezone.now()
        batch.created_households = result.created_household_ids
    elif result is not None:
        batch.status = ImportBatch.Status.REFUSED
    batch.save(update_fields=["status", "message", "report", "rows_read", "applied_at", "created_households"])
    return result


def run_import(*, data: bytes, filename: str, kind: str, user, dry_run: bool):
    """The command line's path: check and write in one go. A dry run records no batch."""
    _require(user, kind)
    importer, _model = IMPORTERS[kind]
    if dry_run:
        result = importer(data, user=user, filename=filename, dry_run=True)
        attempts.record(result, user=user, filename=filename)
        return None, result
    batch = create_batch(data=data, filename=filename, kind=kind, user=user)
    batch.confirmed_by = user
    result = _run(batch, user=user, dry_run=False)
    if result is None:
        batch.save()
        raise FileRefused(batch.message)
    batch.status = ImportBatch.Status.DONE if result.applied else ImportBatch.Status.REFUSED
    if result.applied:
        batch.applied_at = timezone.now()
        batch.created_households = result.created_household_ids
    batch.save()
    return batch, result
