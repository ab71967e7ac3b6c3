"""django-tasks' `db_worker`, which first ends the import batches a dead worker left behind.

A worker killed while it checked or applied a batch leaves it 检查中/导入中 for ever (its job
stays "running" in the queue, so no one picks it up again). Starting a worker is the moment
one is usually replaced, so it reclaims them (`imports.upkeep`) before taking jobs; cron runs
`reclaim_batches` for the rest. This app is listed before django_tasks_db in INSTALLED_APPS
so that this command is the one `manage.py db_worker` runs.
"""

import logging

from django_tasks_db.management.commands.db_worker import Command as WorkerCommand

from imports.upkeep import reclaim_stuck_batches

logger = logging.getLogger(__name__)


class Command(WorkerCommand):
    help = WorkerCommand.help + " Before starting, marks import batches whose worker died as failed."

    def handle(self, *args, **options):
        for item in reclaim_stuck_batches():
            logger.warning("import batch %s reclaimed: %s", item.batch.pk, item.reason)
        return super().handle(*args, **options)
