"""Every write of the inspections app: each checks who acts, takes a lock where two may act at once,
is safe to repeat (a second press lands on the same result) and refuses in Chinese words."""

import datetime
import random
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Region
from shuanglian.access import LEVEL_DIGITS, OFFICE_ROLES, REGION_ROLES, Role, is_unit_liaison, scope_prefix
from shuanglian.lib.history import recorded

from . import evidence as evidence_files
from . import notice, sampling
from .evidence import EvidenceFile
from .models import (
    Finding,
    Flag,
    Inspection,
    NoticePosting,
    Rectification,
    RectificationEvidence,
    SampledVisit,
    TypicalCase,
)

RECTIFY_DAYS = 30
LEVELS = list(LEVEL_DIGITS)  # province, city, county, township, village


def may_review(user) -> bool:
    """The offices (OFFICE_ROLES) dismiss or confirm flags, and inspect."""
    return user.is_authenticated and (user.is_superuser or user.role in OFFICE_ROLES)


def may_inspect(user) -> bool:
    return may_review(user)


def may_nominate(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in REGION_ROLES)


def may_post_notice(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.TOWNSHIP)


def _office_region(by, fallback: Region) -> Region:
    """The office a user acts for (a superuser acts for the region in question)."""
    return fallback if by.is_superuser or not by.region_id else by.region


def _one_at_a_time(by) -> None:
    """Serialise one user's creations (the user's row locked to the end of the transaction), so that
    a double-clicked form finds the first press's row and returns it instead of adding a second."""
    get_user_model().objects.select_for_update().filter(pk=by.pk).first()  # request.user is lazy


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied


# --- flags ---------------------------------------------------------------------------------------


@recorded
@transaction.atomic
def review_flag(*, by, flag: Flag, confirm: bool, note: str, due_on: datetime.date | None = None) -> Flag:
    """Dismiss a flag with a reason, or confirm it into a finding with one rectification item for the
    township of its village. Pressed twice, the second press finds it reviewed the same way and does
    nothing."""
    _require(may_review(by) and Flag.objects.visible_to(by).filter(pk=flag.pk).exists())
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    wanted = Flag.Status.CONFIRMED if confirm else Flag.Status.DISMISSED
    if flag.status == wanted:
        return flag
    if flag.status != Flag.Status.OPEN:
        raise ValidationError(
            _("该疑点已由%(who)s处理为“%(status)s”。") % {"who": flag.reviewed_by, "status": flag.status}
        )
    note = (note or "").strip()
    if not confirm and not note:
        raise ValidationError({"note": _("排除疑点须写明理由。")})
    if confirm:
        township = Region.objects.get(code=flag.village_id[:9].ljust(12, "0"))
        finding = Finding.objects.create(
            region=_office_region(by, township.parent or township),
            text=f"{flag.get_kind_display()}：{flag.reason}" + (f"\n{note}" if note else ""),
            created_by=by,
        )
        Rectification.objects.create(
            finding=finding,
            township=township,
            requirement=note or _("核实该走访记录，说明情况并整改"),
            due_on=due_on or timezone.localdate() + datetime.timedelta(days=RECTIFY_DAYS),
        )
        flag.finding = finding
    flag.status, flag.review_note = wanted, note
    flag.reviewed_by, flag.reviewed_at = by, timezone.now()
    flag.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "finding"])
    return flag


# --- inspections ---------------------------------------------------------------------------------


@recorded
@transaction.atomic
def create_inspection(
    *,
    by,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    checks: str,
    townships=(),
    units=(),
    team=(),
    visits_from: datetime.date,
    visits_to: datetime.date,
    per_cadre: int = 2,
    seed: int | None = None,
) -> Inspection:
    """Open an inspection of the office's townships or units and draw its sample from `seed` (a fresh
    random one when not given; recorded either way)."""
    _require(may_inspect(by))
    if not townships and not units:
        raise ValidationError(_("请至少选择一个督查乡镇或督查单位。"))
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
    if visits_to < visits_from:
        raise ValidationError({"visits_to": _("抽查走访截止日期不能早于起始日期。")})
    _one_at_a_time(by)
    earlier = Inspection.objects.filter(name=name, starts_on=starts_on, created_by=by).first()
    if earlier:  # the same form pressed twice
        return earlier
    prefix = scope_prefix(by)
    for town in townships:
        if not town.code.startswith(prefix or "-"):
            raise ValidationError({"townships": _("%(name)s不在您的管辖范围内。") % {"name": town.name}})
    inspection = Inspection.objects.create(
        region=by.region if by.region_id else Region.objects.get(level="province"),
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        checks=checks,
        visits_from=visits_from,
        visits_to=visits_to,
        per_cadre=per_cadre,
        seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**53),
        created_by=by,
    )
    inspection.townships.set(townships)
    inspection.units.set(units)
    inspection.team.set(list(team) or [by])
    SampledVisit.objects.bulk_create(
        SampledVisit(
            inspection=inspection,
            visit_id=d.visit_id,
            township_id=d.township_code,
            unit_id=d.unit_id,
            weight=d.weight,
            order=order,
        )
        for order, d in enumerate(sampling.draw(inspection), start=1)
    )
    return inspection


def may_check(user, inspection: Inspection) -> bool:
    return user.is_superuser or inspection.team.filter(pk=user.pk).exists()


@recorded
@transaction.atomic
def record_check(*, by, sample: SampledVisit, result: str, method: str, note: str = "") -> SampledVisit:
    """An inspector's call-back or on-site check of one sampled visit; a later record replaces it."""
    _require(may_check(by, sample.inspection))
    if sample.inspection.status != Inspection.Status.OPEN:
        raise ValidationError(_("督查已结束，不能再登记核查结果。"))
    if result not in SampledVisit.Result.values:
        raise ValidationError({"result": _("请选择核查结果。")})
    if method not in SampledVisit.Method.values:
        raise ValidationError({"method": _("请选择核查方式。")})
    if result == SampledVisit.Result.NOT_AS_RECORDED and not note.strip():
        raise ValidationError({"note": _("与记录不符的，请写明核查情况。")})
    sample.result, sample.method, sample.note = result, method, note.strip()
    sample.checked_by, sample.checked_at = by, timezone.now()
    sample.save(update_fields=["result", "method", "note", "checked_by", "checked_at"])
    return sample


@recorded
@transaction.atomic
def add_finding(
    *, by, inspection: Inspection | None, text: str, township=None, unit=None, requirement: str, due_on
) -> Finding:
    """A finding with its first rectification item, for one township or one unit."""
    _require(may_inspect(by))
    if inspection is not None:
        _require(
            Inspection.objects.managed_by(by).filter(pk=inspection.pk).exists() or may_check(by, inspection)
        )
    if bool(township) == bool(unit):
        raise ValidationError(_("请指定一个责任乡镇或一个责任单位。"))
    if not text.strip():
        raise ValidationError({"text": _("请填写问题。")})
    _one_at_a_time(by)
    earlier = Finding.objects.filter(
        inspection=inspection,
        text=text.strip(),
        created_by=by,
        rectifications__township=township,
        rectifications__unit=unit,
    ).first()
    if earlier:  # the same form pressed twice
        return earlier
    finding = Finding.objects.create(
        inspection=inspection,
        region=inspection.region if inspection else _office_region(by, township or unit.region),
        text=text.strip(),
        created_by=by,
    )
    Rectification.objects.create(
        finding=finding,
        township=township,
        unit=unit,
        requirement=requirement.strip() or text.strip()[:300],
        due_on=due_on,
    )
    return finding


def may_answer(user, item: Rectification) -> bool:
    if user.is_superuser:
        return True
    if is_unit_liaison(user):
        return item.unit_id == user.unit_id
    return user.role == Role.TOWNSHIP and item.township_id == user.region_id


def may_close(user, item: Rectification) -> bool:
    prefix = scope_prefix(user)
    return may_review(user) and prefix is not None and item.finding.region_id.startswith(prefix)


@recorded
@transaction.atomic
def answer_rectification(
    *, by, item: Rectification, answer: str, evidence: str, files: Sequence[EvidenceFile] = ()
) -> Rectification:
    """The township's or unit's answer with its evidence (words, files checked by
    inspections.evidence, or both); the office then closes or returns it. A file already attached
    (same content) is kept once, so a second press adds nothing."""
    _require(may_answer(by, item))
    item = Rectification.objects.select_for_update().get(pk=item.pk)
    if item.status == Rectification.Status.CLOSED:
        raise ValidationError(_("该整改事项已销号。"))
    kept = set(item.files.values_list("sha256", flat=True))
    fresh = list({file.sha256: file for file in files if file.sha256 not in kept}.values())
    if item.status == Rectification.Status.ANSWERED and item.answer == answer.strip() and not fresh:
        return item  # the same answer pressed twice
    if not answer.strip():
        raise ValidationError({"answer": _("请填写整改情况。")})
    if not evidence.strip() and not kept and not fresh:
        raise ValidationError({"evidence": _("请说明佐证材料或上传佐证文件。")})
    if len(kept) + len(fresh) > evidence_files.max_files():
        raise ValidationError(
            _("每个整改事项最多上传 %(n)d 个佐证文件。") % {"n": evidence_files.max_files()}
        )
    RectificationEvidence.objects.bulk_create(
        [
            RectificationEvidence(
                rectification=item,
                name=file.name,
                size=len(file.content),
                sha256=file.sha256,
                content=file.content,
                uploaded_by=by,
            )
            for file in fresh
        ],
        ignore_conflicts=True,  # a concurrent press with the same file: kept once
    )
    item.answer, item.evidence = answer.strip(), evidence.strip()
    item.status, item.answered_by, item.answered_at = Rectification.Status.ANSWERED, by, timezone.now()
    item.save(update_fields=["answer", "evidence", "status", "answered_by", "answered_at"])
    return item


@recorded
@transaction.atomic
def close_rectification(*, by, item: Rectification, accept: bool, note: str = "") -> Rectification:
    """销号 an answered item, or return it with the reason."""
    _require(may_close(by, item))
    item = Rectification.objects.select_for_update().get(pk=item.pk)
    wanted = Rectification.Status.CLOSED if accept else Rectification.Status.RETURNED
    if item.status == wanted:
        return item
    if item.status != Rectification.Status.ANSWERED:
        raise ValidationError(_("整改事项答复后才能销号或退回。"))
    if not accept and not note.strip():
        raise ValidationError({"note": _("退回须写明理由。")})
    item.status, item.close_note = wanted, note.strip()
    if accept:
        item.closed_by, item.closed_at = by, timezone.now()
    item.save(update_fields=["status", "close_note", "closed_by", "closed_at"])
    return item


@recorded
@transaction.atomic
def close_inspection(*, by, inspection: Inspection) -> Inspection:
    _require(Inspection.objects.managed_by(by).filter(pk=inspection.pk).exists())
    if inspection.status != Inspection.Status.CLOSED:
        inspection.status = Inspection.Status.CLOSED
        inspection.save(update_fields=["status"])
    return inspection


# --- notice lists --------------------------------------------------------------------------------


@recorded
@transaction.atomic
def record_posting(*, by, village: Region, posted_on: datetime.date) -> NoticePosting:
    """The township reviewed the list and posted it: the list as it is now is what was posted. The
    same list recorded twice is the same posting."""
    _require(may_post_notice(by) and Region.objects.visible_to(by).filter(pk=village.pk).exists())
    if posted_on > timezone.localdate():
        raise ValidationError({"posted_on": _("张贴日期不能晚于今天。")})
    Region.objects.select_for_update().filter(pk=village.pk).first()  # one posting at a time per village
    listed = notice.rows(village)
    latest, stale = notice.status(village, listed)
    if latest and not stale:
        return latest
    return NoticePosting.objects.create(
        village=village,
        posted_on=posted_on,
        digest=notice.digest(listed),
        households=len(listed),
        recorded_by=by,
    )


# --- typical cases -------------------------------------------------------------------------------


def reviewing_level(case_region: Region) -> str:
    """The office one level up from the nominating one (the province reviews its own)."""
    index = LEVELS.index(case_region.level)
    return LEVELS[max(index - 1, 0)]


def may_review_case(user, case: TypicalCase) -> bool:
    if user.is_superuser:
        return True
    prefix = scope_prefix(user)
    return bool(prefix) and user.role == reviewing_level(case.region) and case.region_id.startswith(prefix)


@recorded
@transaction.atomic
def nominate_case(*, by, kind: str, subject, title: str, write_up: str) -> TypicalCase:
    _require(may_nominate(by))
    field = {
        TypicalCase.Kind.DIARY: "visit",
        TypicalCase.Kind.HOUSEHOLD_PLAN: "household_plan",
        TypicalCase.Kind.VILLAGE_PLAN: "village_plan",
        TypicalCase.Kind.CADRE: "cadre",
        TypicalCase.Kind.UNIT: "unit",
    }[kind]
    if not title.strip() or not write_up.strip():
        raise ValidationError(_("请填写标题和典型材料。"))
    region = by.region if by.region_id else Region.objects.get(level="province")
    _one_at_a_time(by)
    earlier = TypicalCase.objects.filter(
        kind=kind,
        title=title.strip(),
        nominated_by=by,
        status=TypicalCase.Status.NOMINATED,
        **{field: subject},
    ).first()
    if earlier:  # the same form pressed twice
        return earlier
    return TypicalCase.objects.create(
        kind=kind,
        title=title.strip(),
        write_up=write_up.strip(),
        region=region,
        nominated_by=by,
        **{field: subject},
    )


@recorded
@transaction.atomic
def review_case(*, by, case: TypicalCase, approve: bool, note: str = "") -> TypicalCase:
    _require(may_review_case(by, case))
    case = TypicalCase.objects.select_for_update().get(pk=case.pk)
    wanted = TypicalCase.Status.APPROVED if approve else TypicalCase.Status.RETURNED
    if case.status == wanted:
        return case
    if case.status != TypicalCase.Status.NOMINATED:
        raise ValidationError(_("该典型已审核。"))
    if not approve and not note.strip():
        raise ValidationError({"note": _("退回须写明理由。")})
    case.status, case.review_note, case.reviewed_by, case.reviewed_at = (
        wanted,
        note.strip(),
        by,
        timezone.now(),
    )
    case.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    return case
