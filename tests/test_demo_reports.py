"""load_demo's monthly reports: every status, the earlier months locked, written once."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.dates import months_back
from reports.models import MonthlyReport
from visits.models import LockedMonth


@pytest.mark.django_db
def test_demo_reports_at_every_status_and_written_once():
    output = io.StringIO()
    call_command("load_demo", stdout=output)
    assert "月报告" in output.getvalue()
    today = timezone.localdate()
    earliest, second, last = (months_back(today, n) for n in (3, 2, 1))
    statuses = set(MonthlyReport.objects.filter(month=last).values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "returned"}
    returned = MonthlyReport.objects.filter(month=last, status="returned")
    assert {report.region.name for report in returned} == {"马营镇", "达板镇"}  # the demo townships
    assert all(report.actions.filter(kind="return").exclude(comment="").exists() for report in returned)
    assert set(MonthlyReport.objects.filter(month=earliest).values_list("status", flat=True)) == {"approved"}
    assert MonthlyReport.objects.filter(month=second, status="submitted", region__level="county").count() == 2
    assert LockedMonth.objects.filter(month=earliest).exclude(reason="").exists()
    assert not LockedMonth.objects.filter(month=last).exists()
    count = MonthlyReport.objects.count()
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "演示月报告已存在，未写入" in again.getvalue()
    assert MonthlyReport.objects.count() == count
