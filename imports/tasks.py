"""Background jobs for imports (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from accounts.models import User

from . import exports, services
from .models import ImportBatch


@task()
def check_batch(batch_id: int) -> str:
    batch = ImportBatch.objects.get(pk=batch_id)
    services.check_batch(batch=batch)
    return batch.status


@task()
def apply_batch(batch_id: int, user_id: int) -> str:
    batch = ImportBatch.objects.get(pk=batch_id)
    services.apply_batch(batch=batch, user=User.objects.get(pk=user_id))
    return batch.status


@task()
def run_export(job_id: int) -> str:
    return exports.run_export(job_id=job_id)
