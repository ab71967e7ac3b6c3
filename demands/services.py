"""Operations on the demand ledger: each checks who may act, writes its action row and
updates the demand in one transaction. Refusals are ValidationErrors in Chinese."""

import datetime
import uuid
from collections import Counter, defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household
from pairing.models import Pairing
from shuanglian.access import may_raise_demand
from shuanglian.lib import dates
from shuanglian.lib.codes import county_code
from shuanglian.lib.history import record_bulk, recorded
from shuanglian.lib.submission import earlier_submission, refuse_reused_key
from visits.services import is_month_locked, locked_month_error

from .models import (
    LEVEL_ORDER,
    ROLE_LEVEL,
    Demand,
    DemandAction,
    DemandDeadlines,
    Level,
    next_level,
)

Kind = DemandAction.Kind


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


def raise_demand(**kwargs) -> Demand:
    """Put a household's demand on its cadre's desk (see submit_demand)."""
    return submit_demand(**kwargs)[0]


@recorded
@transaction.atomic
def submit_demand(
    *,
    household: Household,
    category: str,
    text: str,
    by,
    visit=None,
    raised_on: datetime.date | None = None,
    submission_key: uuid.UUID | None = None,
) -> tuple[Demand, bool]:
    """Put a household's demand on its cadre's desk, with the cadre level's deadline: (demand, created).

    The clock starts on the day it was raised (the visit's date), not on the day it was typed in.
    The same submission key twice (a double-clicked button) returns the first demand with created
    False and writes nothing; the insert that wins or loses on the key decides. The key reused
    with other content is refused.
    """

    def replay(earlier):
        wanted = (household.pk, category, (text or "").strip(), by.pk, visit.pk if visit else None)
        saved = (earlier.household_id, earlier.category, earlier.text, earlier.raised_by_id, earlier.visit_id)
        if wanted != saved or (raised_on and raised_on != earlier.raised_on):
            refuse_reused_key(_("诉求"), f"{earlier.household}：{earlier.text}")
        return earlier, False

    if submission_key:
        earlier = earlier_submission(Demand, submission_key)
        if earlier:
            return replay(earlier)
    if not may_raise_demand(by):
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
    if lock := is_month_locked(household.village_id, raised_on):
        raise locked_month_error(lock, raised_on, _("诉求"))
    demand = Demand(
        household=household,
        visit=visit,
        raised_on=raised_on,
        category=category,
        text=text,
        level=Level.CADRE,
        status=Demand.Status.PENDING,
        raised_by=by,
        due_on=due_date(household.village_id, Level.CADRE, raised_on),
        submission_key=submission_key,
    )
    try:
        with transaction.atomic():
            demand.save()
    except IntegrityError:
        if not submission_key:
            raise
        # Both clicks passed the look above at once; the first one's demand stands.
        return replay(earlier_submission(Demand, submission_key))
    DemandAction.objects.create(demand=demand, kind=Kind.RAISE, text=text, from_level=Level.CADRE, by=by)
    return demand, True


class AlreadyDone(Exception):
    """This very step was just taken by the same user with the same text: a second press of its button."""


def _check_seen(user, demand: Demand, kind: str, text: str, seen: int | None) -> None:
    """Refuse to act twice on a page's one look at the demand (under the demand's row lock).

    `seen` is the last action the page showed (None from callers without a page: no check).
    If this user has since taken this step with this text, the press is the second of a double
    click: AlreadyDone, nothing written. Any other newer action means someone else moved the
    demand meanwhile: refused, so the user looks before acting."""
    if seen is None:
        return
    newer = list(demand.actions.filter(pk__gt=seen).values_list("kind", "by_id", "text"))
    if not newer:
        return
    if (kind, user.pk, (text or "").strip()) in newer:
        raise AlreadyDone
    raise ValidationError(_("您打开页面后该诉求已有新的办理，请查看最新进展后再办理"), code="stale")


def _locked_for(user, demand: Demand, kind: str, text: str = "", seen: int | None = None) -> Demand:
    """The demand re-read under a row lock, once we know this user may take this step now."""
    demand = Demand.objects.select_for_update().select_related("household").get(pk=demand.pk)
    _check_seen(user, demand, kind, text, seen)
    if not may_act(user, demand):
        raise ValidationError(
            _("该诉求现由%(level)s办理，您不能在此层级办理") % {"level": demand.get_level_display()},
            code="level",
        )
    if kind == Kind.ESCALATE and not next_level(demand.level):
        raise ValidationError(_("诉求已在省双联办（领导小组办公室），不能再上报"), code="top")
    if kind not in allowed_actions(user, demand):
        raise ValidationError(
            _("诉求状态为“%(status)s”，不能%(action)s")
            % {"status": demand.status, "action": Kind(kind).label},
            code="status",
        )
    return demand


def _required(text: str, label: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("请填写%(label)s") % {"label": label}})
    return text


def acting_for(user, demand: Demand) -> str:
    """Whom `user` stands in for when acting on `demand` at its level: '' when it is the user's
    own level, else the unit(s) or office that has no one to act (models.acting_for_q)."""
    own = ROLE_LEVEL.get(getattr(user, "role", None))
    if user.is_superuser or own is None or demand.level == own:
        return ""
    if own == Level.TOWNSHIP and demand.level == Level.CADRE:
        return ""  # township staff act for cadres as a matter of course
    if demand.level == Level.UNIT:
        units = (
            Pairing.objects.open()
            .filter(household_id=demand.household_id)
            .order_by("cadre__unit__name")
            .values_list("cadre__unit__name", flat=True)
            .distinct()
        )
        names = "、".join(units)
        if names:
            return names[:200]
    return str(Level(demand.level).label)


def _record(demand, kind, by, text="", to_level="", **changes) -> DemandAction:
    action = DemandAction.objects.create(
        demand=demand,
        kind=kind,
        text=text,
        from_level=demand.level,
        to_level=to_level,
        by=by,
        acting_for=acting_for(by, demand) if by is not None else "",
    )
    for field, value in changes.items():
        setattr(demand, field, value)
    demand.save(update_fields=[*changes, "updated_at"])
    return action


@recorded
@transaction.atomic
def accept(*, demand: Demand, by, text: str = "", seen: int | None = None) -> DemandAction:
    """受理: the level takes the demand on."""
    demand = _locked_for(by, demand, Kind.ACCEPT, text, seen)
    return _record(demand, Kind.ACCEPT, by, (text or "").strip(), status=Demand.Status.IN_PROGRESS)


@recorded
@transaction.atomic
def reply(*, demand: Demand, by, text: str, seen: int | None = None) -> DemandAction:
    """答复: an answer on the way, the demand stays open."""
    demand = _locked_for(by, demand, Kind.REPLY, text, seen)
    return _record(demand, Kind.REPLY, by, _required(text, _("答复内容")), status=Demand.Status.IN_PROGRESS)


@recorded
@transaction.atomic
def escalate(*, demand: Demand, by, text: str, seen: int | None = None) -> DemandAction:
    """上报: pass the demand one level up, with the reason; the new level's clock starts today."""
    demand = _locked_for(by, demand, Kind.ESCALATE, text, seen)
    reason = _required(text, _("上报理由"))
    upper = next_level(demand.level)
    return _record(
        demand,
        Kind.ESCALATE,
        by,
        reason,
        to_level=upper,
        level=upper,
        status=Demand.Status.PENDING,
        due_on=due_date(demand.household.village_id, upper, timezone.localdate()),
    )


@recorded
@transaction.atomic
def resolve(*, demand: Demand, by, text: str, seen: int | None = None) -> DemandAction:
    """办结: what was done."""
    demand = _locked_for(by, demand, Kind.RESOLVE, text, seen)
    return _record(demand, Kind.RESOLVE, by, _required(text, _("办理结果")), status=Demand.Status.RESOLVED)


@recorded
@transaction.atomic
def explain(*, demand: Demand, by, text: str, seen: int | None = None) -> DemandAction:
    """解释: why it cannot be done; the demand is closed with the explanation."""
    demand = _locked_for(by, demand, Kind.EXPLAIN, text, seen)
    return _record(demand, Kind.EXPLAIN, by, _required(text, _("解释理由")), status=Demand.Status.EXPLAINED)


@recorded
@transaction.atomic
def feedback(*, demand: Demand, by, text: str, seen: int | None = None) -> DemandAction:
    """反馈: what the household was told."""
    demand = _locked_for(by, demand, Kind.FEEDBACK, text, seen)
    return _record(demand, Kind.FEEDBACK, by, _required(text, _("反馈内容")))


ACTIONS = {
    Kind.ACCEPT: accept,
    Kind.REPLY: reply,
    Kind.ESCALATE: escalate,
    Kind.RESOLVE: resolve,
    Kind.EXPLAIN: explain,
    Kind.FEEDBACK: feedback,
}

OVERDUE_REASON = "逾期未办结"


@transaction.atomic
def escalate_overdue(*, today: datetime.date | None = None, dry_run: bool = False) -> Counter:
    """Move every overdue open demand below the province one level up, with an automatic action row.

    The new level's deadline starts today, so nothing escalated here is overdue again today:
    a second run changes nothing. Rows another run holds locked are skipped, not waited for.
    Returns how many demands moved, per (from level, to level).

    A fixed number of statements however many demands are overdue: one locking select, one for
    the deadlines, one UPDATE (the new level and due date chosen by CASE) and one bulk insert of
    the action rows. SQLite alone splits the last two at its limit on query parameters.
    """
    today = today or timezone.localdate()
    overdue = list(
        Demand.objects.overdue(today)
        .exclude(level=Level.PROVINCE)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", "level", "household__village_id")
    )
    moved = Counter()
    if not overdue:
        return moved
    deadlines = DemandDeadlines.table({county_code(village) for _pk, _level, village in overdue})
    by_due_on = defaultdict(list)  # new due date -> demand ids
    for pk, level, village in overdue:
        upper = next_level(level)
        moved[level, upper] += 1
        by_due_on[today + datetime.timedelta(days=deadlines[county_code(village)][upper])].append(pk)
    if dry_run:
        return moved
    now = timezone.now()
    one_up = Case(
        *(When(level=level, then=Value(next_level(level))) for level in LEVEL_ORDER[:-1]), default=F("level")
    )
    # Each id is bound twice (the WHERE and its due date's branch); PostgreSQL has no limit here.
    limit = connection.features.max_query_params
    step = len(overdue) if limit is None else max(1, (limit - 20) // 2)
    for start in range(0, len(overdue), step):
        ids = {pk for pk, _level, _village in overdue[start : start + step]}
        due_on = Case(
            *(
                When(pk__in=ids.intersection(pks), then=Value(day))
                for day, pks in by_due_on.items()
                if not ids.isdisjoint(pks)
            ),
            default=F("due_on"),
        )
        Demand.objects.filter(pk__in=ids).update(
            level=one_up, due_on=due_on, status=Demand.Status.PENDING, updated_at=now
        )
        # An UPDATE sends no signal: the moved rows' history, by nobody (系统), in one more read and insert.
        record_bulk(Demand, Demand.objects.filter(pk__in=ids))
    DemandAction.objects.bulk_create(
        DemandAction(
            demand_id=pk,
            kind=Kind.ESCALATE,
            text=OVERDUE_REASON,
            from_level=level,
            to_level=next_level(level),
            at=now,
        )
        for pk, level, _village in overdue
    )
    return moved
