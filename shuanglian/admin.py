"""What the admin would otherwise say in English.

The background tasks' admin (django-tasks-db) has English names for its computed columns; this
replaces it with the same admin under Chinese names. Importing the package's admin first makes sure
it is registered before we take its place, whatever the order of INSTALLED_APPS.

Django gives the yes/no icons of boolean columns the alt text "True"/"False"/"None", which is what
a screen reader says; `_boolean_icon` is looked up at each call, so replacing it here reaches every
list and change page. tests/test_page_chrome.py fails if a Django upgrade moves it.
"""

from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.templatetags.static import static
from django.utils.html import format_html
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

_SPOKEN = {True: ("yes", "是"), False: ("no", "否"), None: ("unknown", "未知")}


def _boolean_icon(value):
    icon, alt = _SPOKEN[value]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), alt)


admin_list._boolean_icon = _boolean_icon

admin.site.unregister(DBTaskResult)


# The project's background tasks by what they do; another task shows its function's name.
TASK_LABELS = {"imports.tasks.check_batch": "检查名册", "imports.tasks.apply_batch": "导入名册"}


def task_label(result: DBTaskResult) -> str:
    return TASK_LABELS.get(result.task_path, result.task_name)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = ("task", "status", "enqueued_at", "started_at", "finished_at", "priority", "queue_name")
    # Names the result by its task, where Django would say "DBTaskResult object (<uuid>)".
    change_form_template = "admin/task_result_change_form.html"

    @admin.display(description="任务", ordering="task_path")
    def task(self, obj):
        return task_label(obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["subtitle"] = f"{task_label(obj)}（{obj.get_status_display()}）"
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="错误详情")
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description="计划执行时间")
    def display_run_after(self, obj):
        return super().display_run_after(obj)
