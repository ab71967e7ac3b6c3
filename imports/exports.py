"""Exports as background jobs: a workbook that takes more than a few seconds is built by a worker.

The page that offers an export counts what it would write; at most ``settings.EXPORT_INLINE_ROWS``
rows it answers with the file at once, above that it offers a button that starts an ``ExportJob``
(a POST with a submission key, so a double click starts one job). The job page shows the progress
and then the file. ``manage.py db_worker`` runs the jobs, as it runs the imports' checks.

A builder is a plain function ``build(job, progress) -> bytes`` named by its dotted path; it reads
``job.params`` and ``job.created_by`` (the scope is the requester's, checked again in the worker)
and calls ``progress(done, total)`` now and then.
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .models import ExportJob

log = logging.getLogger(__name__)


def parse_key(raw) -> uuid.UUID | None:
    """A submission key from a form; anything else is no key (the press then starts its own job)."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def start_export(*, builder: str, params: dict, label: str, filename: str, user, submission_key=None):
    """Queue an export for `user`; the same submission key a second time returns the first job."""
    key = submission_key or uuid.uuid4()
    earlier = ExportJob.objects.filter(submission_key=key).first()
    if earlier is not None:
        # A replay lands on the first press's job; a key of someone else's job starts nothing.
        return earlier if earlier.created_by_id == user.pk else None
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                builder=builder,
                params=params,
                label=label[:200],
                filename=filename[:200],
                created_by=user,
                submission_key=key,
            )
    except IntegrityError:
        # Two presses at the same moment: the other one inserted first.
        job = ExportJob.objects.get(submission_key=key)
        return job if job.created_by_id == user.pk else None
    from . import tasks

    transaction.on_commit(lambda: tasks.run_export.enqueue(job.pk))
    return job


def run_export(*, job_id: int) -> str:
    """Build the file of a queued job (the worker's side). Only one worker claims a job."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING
    )
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job.status

    def progress(done: int, total: int | None = None) -> None:
        fields = {"rows_done": done}
        if total is not None:
            fields["rows_total"] = total
        ExportJob.objects.filter(pk=job_id).update(**fields)

    try:
        content = import_string(job.builder)(job, progress)
    except Exception as error:  # the job page says it failed; the log keeps the trace
        log.exception("export %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED,
            message=_("导出失败：%(error)s") % {"error": str(error)[:300]},
            finished_at=timezone.now(),
        )
        return ExportJob.Status.FAILED
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE, content=content, rows_done=F("rows_total"), finished_at=timezone.now()
    )
    return ExportJob.Status.DONE


def query_params(params: dict) -> QueryDict:
    """A job's stored query parameters (lists of strings) as the QueryDict a filter form reads."""
    query = QueryDict(mutable=True)
    for name, values in params.items():
        query.setlist(name, list(values))
    return query


def household_roster(job: ExportJob, progress) -> bytes:
    """The household list as filtered on its page, within the requester's scope (imports' roster)."""
    from households.forms import HouseholdFilterForm
    from households.models import Household
    from shuanglian.access import may_export_roster

    from .workbooks import export_households_bytes

    user = job.created_by
    if not may_export_roster(user):
        raise PermissionError(_("无权导出农户名册"))
    form = HouseholdFilterForm(query_params(job.params) or None, user=user)
    households = form.filter(Household.objects.visible_to(user))
    return export_households_bytes(households, progress=progress)
