"""load_demo's 督查 data: fabricated-looking records flagged, an inspection under way, cases, a notice."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from inspections import notice
from inspections.models import Flag, Inspection, NoticePosting, Rectification, TypicalCase


@pytest.mark.django_db
def test_the_demo_has_flags_an_inspection_cases_and_a_posted_notice():
    call_command("load_demo", stdout=io.StringIO())
    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert {Flag.Kind.COPIED, Flag.Kind.IMPOSSIBLE_DAY, Flag.Kind.AWAY} <= kinds
    assert Flag.objects.filter(status=Flag.Status.CONFIRMED).count() == 1
    inspection = Inspection.objects.get()
    assert inspection.status == Inspection.Status.OPEN
    assert inspection.samples.exclude(result="").count() == 4 and inspection.findings.count() == 2
    assert Rectification.objects.filter(due_on__lt=timezone.localdate()).exists()
    assert TypicalCase.objects.approved().count() == 2
    posting = NoticePosting.objects.get()
    assert notice.status(posting.village)[1] is False
    before = (Flag.objects.count(), TypicalCase.objects.count(), Rectification.objects.count())
    call_command("load_demo", stdout=io.StringIO())
    assert (Flag.objects.count(), TypicalCase.objects.count(), Rectification.objects.count()) == before
