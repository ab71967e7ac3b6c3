"""Operations on the demand ledger: each checks who may act, writes its action row and
updates the demand in one transaction. Refusals are ValidationErrors in Chinese."""

import datetime
import uuid
from collections import Counter, defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household
from shuanglian.lib import dates

from .models import Demand, DemandAction, DemandDeadlines, Level, county_code, next_level

# Who may put a demand in the ledger: those who enter visits or act for cadres.
RAISING_ROLES = {"township", "unit"}
Kind = DemandAction.Kind


def may_raise(user) -> bool:
    return user.is_superuser or user.role in RAISING_ROLES


def may_act(user, demand: Demand) -> bool:
    """Whether `user` answers for the level `demand` sits at, within the user's scope."""
    return Demand.objects.visible_to(user).at_level_of(user).filter(pk=demand.pk).exists()


def allowed_actions(user, demand: Demand) -> list[str]:
    """The action kinds the pages offer this user on this demand."""
    if not may_act(user, demand):
        return []
    if not demand.is_open:
        return [Kind.FEEDBACK]
    kinds = [Kind.ACCEPT] if demand.status == Demand.Status.PENDING else []
    kinds += [Kind.REPLY]
    if next_level(demand.level):
        kinds.append(Kind.ESCALATE)
    return kinds + [Kind.RESOLVE, Kind.EXPLAIN, Kind.FEEDBACK]


def due_date(village_code: str, level: str, start: datetime.date) -> datetime.date:
    days = DemandDeadlines.table([county_code(village_code)])[county_code(village_code)][level]
    return start + datetime.timedelta(days=days)


@transaction.atomic
def raise_demand(*, household: Household, category: str, text: str, by, visit=None,
                 raised_on: datetime.date | None = None, submission_key: uuid.UUID | None = None) -> Demand:
    """Put a household's demand on its cadre's desk, with the cadre level's deadline.

    The clock starts on the day it was raised (the visit's date), not on the day it was typed in.
    The same submission key twice (a double-clicked button) returns the first demand.
    """
    if submission_key:
        earlier = Demand.objects.filter(submission_key=submission_key).first()
        if earlier:
            return earlier
    if not may_raise(by):
        raise ValidationError(_("您的角色不能登记诉求"), code="role")
    if not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        raise ValidationError(_("%(household)s 不在您的管辖范围内") % {"household": household}, code="scope")
    if category not in Demand.Category.values:
        raise ValidationError({"category": _("诉求类别“%(value)s”无效") % {"value": category}})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("请填写诉求内容")})
    if visit is not None and visit.household_id != household.pk:
        raise ValidationError(_("走访记录与农户不一致"), code="visit")
    raised_on = raised_on or (visit.visited_on if visit else timezone.localdate())
    dates.check_date(raised_on, _("提出日期"), allow_future=True, field="raised_on")
    if raised_on > timezone.localdate():
        raise ValidationError({"raised_on": _("提出日期 %(day)s 晚于今天") % {"day": raised_on}})
    demand = Demand(
        household=household, visit=visit, raised_on=raised_on, category=category, text=text,
        level=Level.CADRE, status=Demand.Status.PENDING, raised_by=by,
        due_on=due_date(household.village_id, Level.CADRE, raised_on), submission_key=submission_key,
    )
    try:
        with transaction.atomic():
            demand.save()
    except IntegrityError:
        if not submission_key:
            raise
        # Both clicks passed the check above at once; the first one's demand stands.
        return Demand.objects.get(submission_key=submission_key)
    DemandAction.objects.create(demand=demand, kind=Kind.RAISE, text=text, from_level=Level.CADRE, by=by)
    return demand


def _locked_for(user, demand: Demand, kind: str) -> Demand:
    """The demand re-read under a row lock, once we know this user may take this step now."""
    demand = Demand.objects.select_for_update().select_related("household").get(pk=demand.pk)
    if not may_act(user, demand):
        raise ValidationError(
            _("该诉求现由%(level)s办理，您不能在此层级办理") % {"level": demand.get_level_display()}, code="level"
        )
    if kind == Kind.ESCALATE and not next_level(demand.level):
        raise ValidationError(_("诉求已在省双联办（领导小组办公室），不能再上报"), code="top")
    if kind not in allowed_actions(user, demand):
        raise ValidationError(
            _("诉求状态为“%(status)s”，不能%(action)s") % {"status": demand.status, "action": Kind(kind).label},
            code="status",
        )
    return demand


def _required(text: str, label: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("请填写%(label)s") % {"label": label}})
    return text


def _record(demand, kind, by, text="", to_level="", **changes) -> DemandAction:
    action = DemandAction.objects.create(
        demand=demand, kind=kind, text=text, from_level=demand.level, to_level=to_level, by=by
    )
    for field, value in changes.items():
        setattr(demand, field, value)
    demand.save(update_fields=[*changes, "updated_at"])
    return action


@transaction.atomic
def accept(*, demand: Demand, by, text: str = "") -> DemandAction:
    """受理: the level takes the demand on."""
    demand = _locked_for(by, demand, Kind.ACCEPT)
    return _record(demand, Kind.ACCEPT, by, (text or "").strip(), status=Demand.Status.IN_PROGRESS)


@transaction.atomic
def reply(*, demand: Demand, by, text: str) -> DemandAction:
    """答复: an answer on the way, the demand stays open."""
    demand = _locked_for(by, demand, Kind.REPLY)
    return _record(demand, Kind.REPLY, by, _required(text, _("答复内容")), status=Demand.Status.IN_PROGRESS)


@transaction.atomic
def escalate(*, demand: Demand, by, text: str) -> DemandAction:
    """上报: pass the demand one level up, with the reason; the new level's clock starts today."""
    demand = _locked_for(by, demand, Kind.ESCALATE)
    reason = _required(text, _("上报理由"))
    upper = next_level(demand.level)
    return _record(
        demand, Kind.ESCALATE, by, reason, to_level=upper, level=upper, status=Demand.Status.PENDING,
        due_on=due_date(demand.household.village_id, upper, timezone.localdate()),
    )


@transaction.atomic
def resolve(*, demand: Demand, by, text: str) -> DemandAction:
    """办结: what was done."""
    demand = _locked_for(by, demand, Kind.RESOLVE)
    return _record(demand, Kind.RESOLVE, by, _required(text, _("办理结果")), status=Demand.Status.RESOLVED)


@transaction.atomic
def explain(*, demand: Demand, by, text: str) -> DemandAction:
    """解释: why it cannot be done; the demand is closed with the explanation."""
    demand = _locked_for(by, demand, Kind.EXPLAIN)
    return _record(demand, Kind.EXPLAIN, by, _required(text, _("解释理由")), status=Demand.Status.EXPLAINED)


@transaction.atomic
def feedback(*, demand: Demand, by, text: str) -> DemandAction:
    """反馈: what the household was told."""
    demand = _locked_for(by, demand, Kind.FEEDBACK)
    return _record(demand, Kind.FEEDBACK, by, _required(text, _("反馈内容")))


ACTIONS = {
    Kind.ACCEPT: accept, Kind.REPLY: reply, Kind.ESCALATE: escalate,
    Kind.RESOLVE: resolve, Kind.EXPLAIN: explain, Kind.FEEDBACK: feedback,
}

OVERDUE_REASON = "逾期未办结"
CHUNK = 1000


@transaction.atomic
def escalate_overdue(*, today: datetime.date | None = None, dry_run: bool = False) -> Counter:
    """Move every overdue open demand below the province one level up, with an automatic action row.

    The new level's deadline starts today, so nothing escalated here is overdue again today:
    a second run changes nothing. Rows another run holds locked are skipped, not waited for.
    Returns how many demands moved, per (from level, to level).
    """
    today = today or timezone.localdate()
    overdue = (
        Demand.objects.overdue(today).exclude(level=Level.PROVINCE)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", "level", "household__village_id")
    )
    groups = defaultdict(list)  # (level, county) -> demand ids
    for pk, level, village in overdue:
        groups[level, county_code(village)].append(pk)
    moved = Counter()
    if not groups:
        return moved
    deadlines = DemandDeadlines.table({county for _level, county in groups})
    now = timezone.now()
    actions = []
    for (level, county), ids in groups.items():
        upper = next_level(level)
        moved[level, upper] += len(ids)
        if dry_run:
            continue
        due_on = today + datetime.timedelta(days=deadlines[county][upper])
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            Demand.objects.filter(pk__in=chunk, level=level).update(
                level=upper, status=Demand.Status.PENDING, due_on=due_on, updated_at=now
            )
        actions += [
            DemandAction(
                demand_id=pk, kind=Kind.ESCALATE, text=OVERDUE_REASON, from_level=level, to_level=upper, at=now
            )
            for pk in ids
        ]
    DemandAction.objects.bulk_create(actions, batch_size=CHUNK)
    return moved
