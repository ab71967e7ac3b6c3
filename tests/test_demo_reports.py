"""load_demo's monthly reports: every status, the earlier months locked, written once."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.bulletins import number_for
from demo.dates import months_back
from reports.dispatch import Quarter
from reports.models import Bulletin, MonthlyReport
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
    # One bulletin, issued by 通渭县's office on the last full quarter, read by half the offices below.
    bulletin = Bulletin.objects.get()
    quarter = Quarter.of(today).previous
    assert (bulletin.region.name, bulletin.status) == ("通渭县", "issued")
    assert (bulletin.year, bulletin.quarter, bulletin.number) == (
        quarter.year,
        quarter.number,
        number_for(quarter),
    )
    assert bulletin.history.filter(status="issued").exists()
    recipients = bulletin.recipients.all()
    read = recipients.filter(read_at__isnull=False)
    assert read.count() == recipients.count() // 2 > 0
    assert recipients.filter(read_at__isnull=True).exists()
    assert not read.filter(read_by__isnull=True).exists()
    count = MonthlyReport.objects.count()
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "演示月报告已存在，未写入" in again.getvalue()
    assert "演示通报已存在，未写入" in again.getvalue()
    assert MonthlyReport.objects.count() == count
    assert Bulletin.objects.count() == 1
    assert recipients.filter(read_at__isnull=False).count() == read.count()
