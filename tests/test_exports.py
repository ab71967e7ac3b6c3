"""Exports as background jobs (imports/exports.py): a large export is offered as a job with progress,
started once however often its button is pressed, built within the requester's scope and offered
only to the requester."""

import io
import uuid

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from imports.models import ExportJob

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def large(settings):
    """Every export counts as large: it goes to the background."""
    settings.EXPORT_INLINE_ROWS = 0
    settings.TASKS = IMMEDIATE


def _heads(content: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(content))
    return [row[4].value for row in book["农户"].iter_rows(min_row=2)]


def test_a_small_export_comes_at_once(client, world):
    client.force_login(world.users.town_a)
    response = client.get(reverse("imports:export_households"))
    assert response["Content-Disposition"].startswith("attachment")
    assert ExportJob.objects.count() == 0


def test_a_large_export_runs_as_a_job_started_once_and_offered_when_ready(
    client, world, large, django_capture_on_commit_callbacks
):
    client.force_login(world.users.county_a)
    url = reverse("imports:export_households") + "?q=赵德胜"
    page = client.get(url)
    assert page.status_code == 200 and "开始生成" in page.content.decode()
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"submission_key": key})
        second = client.post(url, {"submission_key": key})  # the double click
    assert ExportJob.objects.count() == 1
    job = ExportJob.objects.get()
    assert first.url == second.url == reverse("imports:export_detail", args=[job.pk])
    assert job.status == ExportJob.Status.DONE
    assert job.rows_total > 0 and job.rows_done == job.rows_total  # progress was reported
    detail = client.get(first.url).content.decode()
    assert reverse("imports:export_download", args=[job.pk]) in detail
    status = client.get(reverse("imports:export_status", args=[job.pk])).json()
    assert status["running"] is False and status["percent"] == 100
    download = client.get(reverse("imports:export_download", args=[job.pk]))
    assert _heads(download.content) == ["赵德胜"]  # the list's filter, kept by the job


def test_the_job_keeps_the_requesters_scope(client, world, large, django_capture_on_commit_callbacks):
    client.force_login(world.users.town_b)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:export_households"), {"submission_key": str(uuid.uuid4())})
    job = ExportJob.objects.get()
    assert _heads(client.get(reverse("imports:export_download", args=[job.pk])).content) == ["妥有福"]


@pytest.mark.parametrize(
    "name", ["imports:export_detail", "imports:export_status", "imports:export_download"]
)
def test_another_user_cannot_see_the_job(client, world, large, django_capture_on_commit_callbacks, name):
    client.force_login(world.users.town_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:export_households"), {"submission_key": str(uuid.uuid4())})
    job = ExportJob.objects.get()
    for other in (world.users.county_a, world.users.town_b):
        client.force_login(other)
        assert client.get(reverse(name, args=[job.pk])).status_code == 404


def test_a_unit_liaison_may_not_start_one(client, world, large):
    client.force_login(world.users.unit_a)
    response = client.post(reverse("imports:export_households"), {"submission_key": str(uuid.uuid4())})
    assert response.status_code == 403
    assert ExportJob.objects.count() == 0


def test_a_failing_builder_marks_the_job_failed(world, large):
    from imports import exports

    job = ExportJob.objects.create(
        builder="imports.exports.no_such_builder", label="x", filename="x.xlsx", created_by=world.users.town_a
    )
    assert exports.run_export(job_id=job.pk) == ExportJob.Status.FAILED
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.message.startswith("导出失败")
