"""The monthly report's workflow: draft → submitted → approved, or returned → edited → resubmitted;
an approved report reopened by the office above. Each step locks the report's row, checks the actor
and the report's version (the one the page showed), and writes its ReportAction row.

Approval freezes the figures and locks the month (visits.LockedMonth) for the villages the report
counted: a region's office its region, a unit the villages it links. Reopening lifts the locks that
no other approved report of the month still holds.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pairing.models import VillageLink
from shuanglian.lib.history import recorded
from visits.models import LockedMonth

from . import figures as report_figures
from .models import MonthlyReport, ReportAction
from .offices import Office, children, may_review, may_write

Kind = ReportAction.Kind
Status = MonthlyReport.Status
TEXT_FIELDS = ("work_done", "experience", "problems", "next_month")


class AlreadyDone(Exception):
    """The step the page asked for is what the report's last step already did: a second press."""


def _locked(report: MonthlyReport) -> MonthlyReport:
    return (
        MonthlyReport.objects.select_for_update(of=("self",))
        .select_related("region", "unit")
        .get(pk=report.pk)
    )


def office_of_report(report: MonthlyReport) -> Office:
    return Office(region=report.region) if report.region_id else Office(unit=report.unit)


def _check(report: MonthlyReport, *, seen: int | None, allowed: tuple, done: str) -> None:
    """Refuse a step on a report that changed since the page showed it, or is not in a state
    that allows it; a second press of the button that made it `done` is AlreadyDone."""
    if seen is not None and seen != report.version:
        if report.status == done:
            raise AlreadyDone
        raise ValidationError(
            _("该报告已被他人修改（现为%(status)s），请刷新后再操作")
            % {"status": report.get_status_display()}
        )
    if report.status not in allowed:
        if report.status == done:
            raise AlreadyDone
        raise ValidationError(
            _("该报告当前为“%(status)s”，不能进行此操作") % {"status": report.get_status_display()},
            code="status",
        )


def _step(report: MonthlyReport, kind: str, by, comment: str = "", **changes) -> MonthlyReport:
    for name, value in changes.items():
        setattr(report, name, value)
    report.version += 1
    report.save()
    ReportAction.objects.create(report=report, kind=kind, comment=comment, by=by)
    return report


def _clean_texts(texts: dict) -> dict:
    cleaned = {}
    for name in TEXT_FIELDS:
        value = (texts.get(name) or "").strip()
        field = MonthlyReport._meta.get_field(name)
        if len(value) > field.max_length:
            raise ValidationError(
                {
                    name: _("%(field)s不能超过 %(max)d 字（现有 %(n)d 字）")
                    % {"field": field.verbose_name, "max": field.max_length, "n": len(value)}
                }
            )
        cleaned[name] = value
    return cleaned


@recorded
@transaction.atomic
def save_report(
    *, office: Office, month: datetime.date, by, texts: dict, seen: int | None = None
) -> MonthlyReport:
    """Write the office's text for the month: the first save creates the draft, later ones edit a
    draft or a returned report. A report submitted or approved is not edited."""
    if not may_write(by, office):
        raise PermissionDenied
    cleaned = _clean_texts(texts)
    report = MonthlyReport.objects.filter(month=month, **office.filter()).first()
    if report is None:
        try:
            with transaction.atomic():
                report = MonthlyReport.objects.create(
                    month=month, created_by=by, **office.filter(), **cleaned
                )
        except IntegrityError:  # a second press created it first: edit that one
            report = MonthlyReport.objects.get(month=month, **office.filter())
        else:
            ReportAction.objects.create(report=report, kind=Kind.CREATE, by=by)
            return report
    report = _locked(report)
    if all(getattr(report, name) == value for name, value in cleaned.items()):
        return report  # nothing changed: a second press of 保存
    _check(report, seen=seen, allowed=(Status.DRAFT, Status.RETURNED), done="")
    return _step(report, Kind.EDIT, by, **cleaned)


def missing_below(office: Office, month: datetime.date) -> list[Office]:
    """The offices reporting to `office` whose report on the month is not approved."""
    below = children(office)
    approved = set()
    for report in MonthlyReport.objects.filter(month=month, status=Status.APPROVED).filter(
        region__in=[child.region for child in below if child.region]
    ):
        approved.add(report.region_id)
    for report in MonthlyReport.objects.filter(month=month, status=Status.APPROVED).filter(
        unit__in=[child.unit for child in below if child.unit]
    ):
        approved.add(f"u{report.unit_id}")
    return [child for child in below if child.key not in approved]


@recorded
@transaction.atomic
def submit_report(
    *, report: MonthlyReport, by, seen: int | None = None, missing_note: str = ""
) -> MonthlyReport:
    """报送: a draft or returned report goes up. An office with offices reporting to it submits only
    when all their reports are approved, or with a 缺报 note (the missing ones are listed with it)."""
    office = office_of_report(report)
    if not may_write(by, office):
        raise PermissionDenied
    if office.parent_code is None:
        raise ValidationError(_("省双联办的月报告不需要报送"), code="top")
    report = _locked(report)
    _check(report, seen=seen, allowed=(Status.DRAFT, Status.RETURNED), done=Status.SUBMITTED)
    missing = missing_below(office, report.month)
    note = (missing_note or "").strip()
    comment = ""
    if missing:
        names = "、".join(child.name for child in missing)
        if not note:
            raise ValidationError(
                {
                    "missing_note": _("以下单位的月报告尚未审核通过：%(names)s。请填写缺报说明后再报送")
                    % {"names": names}
                },
                code="missing",
            )
        if len(note) > MonthlyReport._meta.get_field("missing_note").max_length:
            raise ValidationError({"missing_note": _("缺报说明过长")})
        comment = _("缺报：%(names)s。说明：%(note)s") % {"names": names, "note": note}
    return _step(
        report, Kind.SUBMIT, by, comment, status=Status.SUBMITTED, missing_note=note if missing else ""
    )


def _review(report: MonthlyReport, by) -> Office:
    office = office_of_report(report)
    if not may_review(by, office):
        raise PermissionDenied
    return office


@recorded
@transaction.atomic
def return_report(*, report: MonthlyReport, by, comment: str, seen: int | None = None) -> MonthlyReport:
    """退回: the office above sends a submitted report back with what to correct."""
    _review(report, by)
    report = _locked(report)
    _check(report, seen=seen, allowed=(Status.SUBMITTED,), done=Status.RETURNED)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("请填写退回意见，说明需要修改的内容")})
    return _step(report, Kind.RETURN, by, comment, status=Status.RETURNED)


def lock_regions(report: MonthlyReport) -> list[str]:
    """The regions whose month the report counted: a region office's region; a unit's linked villages."""
    if report.region_id:
        return [report.region_id]
    month_end = (report.month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    links = VillageLink.objects.filter(unit_id=report.unit_id, started_on__lte=month_end)
    links = links.exclude(ended_on__lt=report.month)
    return sorted(set(links.values_list("village_id", flat=True)))


@recorded
@transaction.atomic
def approve_report(*, report: MonthlyReport, by, comment: str = "", seen: int | None = None) -> MonthlyReport:
    """审核通过: the figures are frozen as they are now, and the month is locked where they were counted."""
    office = _review(report, by)
    report = _locked(report)
    _check(report, seen=seen, allowed=(Status.SUBMITTED,), done=Status.APPROVED)
    frozen = report_figures.compute(office, report.month)
    frozen["locks"] = lock_regions(report)
    report = _step(
        report,
        Kind.APPROVE,
        by,
        (comment or "").strip(),
        status=Status.APPROVED,
        figures=frozen,
        frozen_at=timezone.now(),
    )
    for code in frozen["locks"]:
        lock, created = LockedMonth.objects.get_or_create(
            region_id=code, month=report.month, defaults={"reason": str(report)}
        )
        if not created and not lock.reason:
            lock.reason = str(report)
            lock.save(update_fields=["reason"])
    return report


@recorded
@transaction.atomic
def reopen_report(*, report: MonthlyReport, by, reason: str, seen: int | None = None) -> MonthlyReport:
    """重新打开: the office above takes back its approval, with the reason. The report returns to
    the office to correct and resubmit, and its month is unlocked, unless the report of the office
    above is approved too (reopen that one first)."""
    office = _review(report, by)
    report = _locked(report)
    _check(report, seen=seen, allowed=(Status.APPROVED,), done=Status.RETURNED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写重新打开的原因")})
    above = MonthlyReport.objects.filter(
        region_id=office.parent_code, unit=None, month=report.month, status=Status.APPROVED
    ).first()
    if above is not None:
        raise ValidationError(
            _("%(above)s已审核通过，请先由其上级重新打开该报告") % {"above": above}, code="above"
        )
    released = set(report.figures.get("locks", []))
    others = MonthlyReport.objects.filter(month=report.month, status=Status.APPROVED).exclude(pk=report.pk)
    for other in others.only("figures"):
        released -= set(other.figures.get("locks", []))
    for lock in LockedMonth.objects.filter(month=report.month, region_id__in=released):
        lock.delete()  # one by one, so the change history records each
    return _step(report, Kind.REOPEN, by, reason, status=Status.RETURNED)
