"""The background tasks' admin (django-tasks-db) with Chinese column names.

The package registers its own admin, whose computed columns carry English names; this replaces it
with the same admin under Chinese names. Importing the package's admin first makes sure it is
registered before we take its place, whatever the order of INSTALLED_APPS.
"""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = ("task", "status", "enqueued_at", "started_at", "finished_at", "priority", "queue_name")

    @admin.display(description="任务", ordering="task_path")
    def task(self, obj):
        return obj.task_name

    @admin.display(description="错误详情")
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description="计划执行时间")
    def display_run_after(self, obj):
        return super().display_run_after(obj)
