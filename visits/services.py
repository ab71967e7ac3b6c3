"""Recording visits: the refusals that keep the diary honest live here, in one place."""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from pairing.models import Pairing, VillageLink
from shuanglian.access import LEVEL_DIGITS
from shuanglian.lib import dates
from shuanglian.lib.history import recorded
from shuanglian.lib.submission import earlier_submission, refuse_reused_key

from . import entry, tallies
from .models import LockedMonth, UnitVisit, Visit


def _locks(village_code: str, day: datetime.date):
    """The month locks that hold a village's visits on `day`: its township's, county's, city's, province's."""
    regions = [village_code[:digits].ljust(12, "0") for digits in LEVEL_DIGITS.values()]
    return LockedMonth.objects.filter(month=day.replace(day=1), region_id__in=regions)


def is_month_locked(village_code: str, day: datetime.date) -> LockedMonth | None:
    """The lock, if an approved report for the village (a unit's), its township, county, city or
    province counted this month; None when the month is open there."""
    return _locks(village_code, day).first()


def locked_month_error(lock: LockedMonth, day: datetime.date, what: str) -> ValidationError:
    """The refusal of a record dated in a locked month, naming the report that locked it."""
    month = {"year": day.year, "month": day.month, "what": what}
    if lock.reason:
        message = _("%(year)d年%(month)d月已锁定：%(report)s已审核通过，该月%(what)s不能再录入") % {
            **month,
            "report": lock.reason,
        }
    else:
        message = _("%(year)d年%(month)d月的月报已审核通过，该月%(what)s已锁定") % month
    return ValidationError(message, code="locked")


def _differs(visit: Visit, *, household, cadre, visited_on, by, fields) -> bool:
    """Whether a submission reusing `visit`'s key asks for anything else than `visit` holds."""
    wanted = {"household_id": household.pk, "visited_on": visited_on, "recorded_by_id": by.pk}
    if cadre is not None:  # none named: the responsible cadre, as on the first press
        wanted["cadre_id"] = cadre.pk
    wanted |= fields
    return any(getattr(visit, name) != value for name, value in wanted.items())


# --- What every visit, a household's or a unit's, passes -----------------------------------------


def _earlier(model, submission_key):
    """The record an earlier press of the same form saved, if any."""
    return earlier_submission(model, submission_key) if submission_key else None


def _check_day(visited_on: datetime.date) -> None:
    """A visit's day lies within the campaign and not after today."""
    dates.check_date(visited_on, _("走访日期"), allow_future=True)  # the campaign's floor
    if visited_on > timezone.localdate():
        raise ValidationError(_("走访日期 %(day)s 晚于今天") % {"day": visited_on}, code="future")


def _check_unlocked(village_code: str, visited_on: datetime.date, what: str) -> None:
    """No visit enters a month that an approved report counted (`what`: the record, for the message)."""
    if lock := is_month_locked(village_code, visited_on):
        raise locked_month_error(lock, visited_on, what)


class _Lost(Exception):
    """The insert lost on a unique key; its transaction is rolled back, nothing written."""

    def __init__(self, record):
        super().__init__(record)
        self.record = record


def _insert(record) -> None:
    """Insert `record` (a Visit or UnitVisit) as the first write of its transaction, with no
    savepoint of its own (two queries fewer per save): a lost unique key raises _Lost, which rolls
    the whole transaction back, and _save_once tells why outside it."""
    try:
        record.save()
    except IntegrityError as error:
        raise _Lost(record) from error


def _save_once(save, *, replay, duplicate):
    """Run `save()`. When its insert lost on a unique key (nothing written): on the submission key
    another press of this form won, and `replay(earlier)` answers; on the one-a-day key, the record
    was entered already (`duplicate(record)` says so)."""
    try:
        return save()
    except _Lost as lost:
        earlier = _earlier(type(lost.record), lost.record.submission_key)
        if earlier:
            return replay(earlier)
        raise ValidationError(duplicate(lost.record), code="duplicate") from None


# --- A household's visit ------------------------------------------------------------------------


def record_visit(**kwargs) -> Visit:
    """Save a visit, or refuse it with a message that says why (see submit_visit)."""
    return submit_visit(**kwargs)[0]


def first_look(*, household, cadre, visited_on: datetime.date, submission_key):
    """What a save must know before it writes, in one query (a save is the month-end rush's busiest
    request): the pairing that lets `cadre` visit the household that day (no cadre named: the
    household's responsible pairing, with its cadre), annotated with the month lock that holds the
    day (`locked`) and the visit saved earlier under the submission key (`earlier`). None when no
    such pairing exists."""
    pairings = Pairing.objects.on(visited_on).filter(household=household)
    if cadre is None:
        pairings = pairings.responsible().select_related("cadre")
    else:
        pairings = pairings.filter(cadre=cadre)
    earlier = Visit.objects.filter(submission_key=submission_key).values("pk")[:1]
    return (
        pairings.annotate(
            locked=Subquery(_locks(household.village_id, visited_on).values("pk")[:1]),
            earlier=Subquery(earlier) if submission_key else Value(None, output_field=BigIntegerField()),
        )
        .order_by("pk")
        .first()
    )


@recorded
def submit_visit(
    *,
    household,
    cadre=None,
    visited_on: datetime.date,
    by,
    submission_key: uuid.UUID | None = None,
    sections=(),
    **fields,
) -> tuple[Visit, bool]:
    """Save a visit and what its page's sections took down (visits.entry: the demands raised in
    it), all or nothing, and say whether this call saved them: (visit, created). No cadre: the
    household's responsible cadre that day.

    The same submission key twice (a double-clicked button) returns the first visit with
    created False and writes nothing: not the visit, not its sections, not a tally. Whether it
    is a replay is decided here, by the insert that wins or loses on the key, never by an
    earlier look of the caller's. The key reused with other content (Back, another household,
    save) is refused: success is never claimed for what was not written.
    """

    def replay(earlier):
        if _differs(
            earlier, household=household, cadre=cadre, visited_on=visited_on, by=by, fields=fields
        ) or (not entry.all_match(sections, visit=earlier)):
            refuse_reused_key(_("走访记录"), earlier)
        return earlier, False

    return _save_once(
        lambda: _save_visit(
            household=household,
            cadre=cadre,
            visited_on=visited_on,
            by=by,
            submission_key=submission_key,
            sections=sections,
            replay=replay,
            fields=fields,
        ),
        replay=replay,
        duplicate=lambda visit: (
            _("%(cadre)s 已登记过 %(day)s 对 %(household)s 的%(mode)s")
            % {"cadre": visit.cadre.name, "day": visited_on, "household": household, "mode": visit.mode}
        ),
    )


@transaction.atomic
def _save_visit(*, household, cadre, visited_on, by, submission_key, sections, replay, fields):
    look = first_look(household=household, cadre=cadre, visited_on=visited_on, submission_key=submission_key)
    if look is not None and look.earlier:
        return replay(Visit.objects.get(pk=look.earlier))
    if look is None and (earlier := _earlier(Visit, submission_key)):  # a pairing ended since
        return replay(earlier)
    _check_day(visited_on)
    # No pairing that day, then a locked month, told in that order.
    if look is None and cadre is None:
        raise ValidationError(
            _("%(household)s 在该日没有帮扶责任人，请选择走访干部") % {"household": household},
            code="no_responsible",
        )
    if look is None:
        raise ValidationError(
            _("%(day)s %(cadre)s 未联系 %(household)s，不能登记其走访")
            % {"day": visited_on, "cadre": cadre.name, "household": household},
            code="not_paired",
        )
    if look.locked:
        lock = LockedMonth.objects.get(pk=look.locked)  # only on the refusal path
        raise locked_month_error(lock, visited_on, _("走访记录"))
    visit = Visit(
        household=household,
        cadre=cadre or look.cadre,
        visited_on=visited_on,
        recorded_by=by,
        submission_key=submission_key,
        **fields,
    )
    _insert(visit)
    tallies.count_visit(visit)  # the worklists' figures, in this same transaction
    entry.save_all(sections, visit=visit, by=by)
    return visit, True


# --- A unit's day in a linked village -----------------------------------------------------------


def record_unit_visit(**kwargs) -> UnitVisit:
    """Save a unit's day in one of its linked villages (单位联村走访), or refuse it with the reason."""
    return submit_unit_visit(**kwargs)[0]


@recorded
def submit_unit_visit(
    *,
    unit,
    village,
    visited_on: datetime.date,
    cadres,
    activities: str,
    by,
    submission_key: uuid.UUID | None = None,
) -> tuple[UnitVisit, bool]:
    """record_unit_visit, saying whether this call saved it: (visit, created); a replayed
    submission key writes nothing, as in submit_visit."""
    cadres = list(cadres)

    def replay(earlier):
        wanted = (unit.pk, village.pk, visited_on, activities.strip(), by.pk, {cadre.pk for cadre in cadres})
        saved = (
            earlier.unit_id,
            earlier.village_id,
            earlier.visited_on,
            earlier.activities,
            earlier.recorded_by_id,
            set(earlier.cadres.values_list("pk", flat=True)),
        )
        if wanted != saved:
            refuse_reused_key(_("联村走访"), earlier)
        return earlier, False

    return _save_once(
        lambda: _save_unit_visit(unit, village, visited_on, cadres, activities, by, submission_key, replay),
        replay=replay,
        duplicate=lambda _visit: (
            _("%(unit)s %(day)s 到 %(village)s 的走访已登记过")
            % {"unit": unit.name, "day": visited_on, "village": village.name}
        ),
    )


@transaction.atomic
def _save_unit_visit(unit, village, visited_on, cadres, activities, by, submission_key, replay):
    earlier = _earlier(UnitVisit, submission_key)
    if earlier:
        return replay(earlier)
    _check_day(visited_on)
    if not VillageLink.objects.on(visited_on).filter(unit=unit, village=village).exists():
        raise ValidationError(
            _("%(day)s %(unit)s 未联系 %(village)s，不能登记联村走访")
            % {"day": visited_on, "unit": unit.name, "village": village.name},
            code="not_linked",
        )
    if not cadres:
        raise ValidationError(_("请至少选择一名参加走访的干部"), code="no_cadres")
    strangers = [cadre.name for cadre in cadres if cadre.unit_id != unit.pk]
    if strangers:
        raise ValidationError(
            _("%(names)s 不是 %(unit)s 的干部") % {"names": "、".join(strangers), "unit": unit.name},
            code="other_unit",
        )
    if not activities.strip():
        raise ValidationError(_("请填写工作内容"), code="no_activities")
    _check_unlocked(village.code, visited_on, _("联村走访记录"))
    visit = UnitVisit(
        unit=unit,
        village=village,
        visited_on=visited_on,
        activities=activities.strip(),
        recorded_by=by,
        submission_key=submission_key,
    )
    _insert(visit)
    visit.cadres.set(cadres)
    tallies.count_unit_visit(visit)
    return visit, True
