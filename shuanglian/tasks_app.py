"""django-tasks-db (the roster imports' background jobs) under a Chinese name.

The package names its app in plain English, and the admin shows that name; INSTALLED_APPS lists this
config in its place. The models' labels are translated in locale/, the admin columns in admin.py.
"""

from django_tasks_db.apps import TasksAppConfig


class TasksDatabaseConfig(TasksAppConfig):
    verbose_name = "后台任务"
