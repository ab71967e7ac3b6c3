"""Every write of the mass evaluation: open a round (and draw its sample), edit its questionnaire,
register and assign collectors, record ballots, mark households unreachable (drawing a substitute),
close the round, and correct a ballot. Each checks the actor and runs in one transaction; refusals
are ValidationErrors in Chinese.
"""

import datetime
import random

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Region
from shuanglian.access import can_write, is_volunteer

from . import flags, sampling, scores
from .models import (
    Ballot,
    BallotCorrection,
    Collector,
    Flag,
    Question,
    Round,
    SampledHousehold,
    ViolationCase,
)
from .questionnaire import DEFAULT_QUESTIONS, VIOLATION

OFFICE_LEVELS = ("province", "city", "county")


def _require_office(by, model) -> None:
    if not can_write(by, model):
        raise PermissionDenied


def _visible_or_refuse(queryset, obj, by):
    """The object through the user's scope: outside it, refuse as if it did not exist."""
    if not queryset.visible_to(by).filter(pk=obj.pk).exists():
        raise ValidationError(_("不在您的管辖范围内。"))


@transaction.atomic
def open_round(
    *,
    by,
    region: Region,
    name: str,
    year: int,
    starts_on: datetime.date,
    ends_on: datetime.date,
    sample_method: str,
    sample_parameter: int = 0,
    period: int = Round.Period.YEAR,
    seed: int | None = None,
    weight_masses: int = 60,
    **grade_lines,
) -> Round:
    """Open a round for an office's region: the default questionnaire, and the sample drawn from `seed`
    (a fresh random one when not given; it is recorded either way)."""
    _require_office(by, Round)
    if region.level not in OFFICE_LEVELS or not Region.objects.visible_to(by).filter(pk=region.pk).exists():
        raise ValidationError({"region": _("评议范围须是您管辖的县、市或省。")})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("收集截止日期不能早于开始日期。")})
    if not 0 <= weight_masses <= 100:
        raise ValidationError({"weight_masses": _("群众评议权重须在0到100之间。")})
    if sample_method == Round.SampleMethod.PER_CADRE and not sample_parameter:
        raise ValidationError({"sample_parameter": _("请填写每名干部抽取的户数。")})
    if sample_method == Round.SampleMethod.PER_VILLAGE and not 1 <= sample_parameter <= 100:
        raise ValidationError({"sample_parameter": _("每村抽取比例须在1%到100%之间。")})
    round_ = Round.objects.create(
        region=region,
        name=name,
        year=year,
        period=period,
        starts_on=starts_on,
        ends_on=ends_on,
        sample_method=sample_method,
        sample_parameter=sample_parameter,
        seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**53),
        weight_masses=weight_masses,
        weight_process=100 - weight_masses,
        created_by=by,
        **grade_lines,
    )
    Question.objects.bulk_create(
        Question(round=round_, order=index + 1, **item) for index, item in enumerate(DEFAULT_QUESTIONS)
    )
    SampledHousehold.objects.bulk_create(
        SampledHousehold(
            round=round_,
            household_id=c.household_id,
            cadre_id=c.cadre_id,
            cadre_unit_id=c.unit_id,
            group_key=key,
            order=order,
        )
        for key, order, c in sampling.draw(round_)
    )
    return round_


@transaction.atomic
def open_round_once(*, by, region: Region, **fields) -> tuple[Round, bool]:
    """open_round, unless this office opened the same round already and it is still open (the first
    press of a double click did): (that round, False). A seed left blank is not compared, since
    open_round draws a fresh one. The region's row is locked, so two presses cannot both find none."""
    Region.objects.select_for_update().filter(pk=region.pk).exists()
    same = {
        name: fields[name]
        for name in ("name", "year", "period", "starts_on", "ends_on", "sample_method", "weight_masses")
        if name in fields
    }
    if fields.get("sample_parameter") is not None:
        same["sample_parameter"] = fields["sample_parameter"]
    if fields.get("seed") is not None:
        same["seed"] = fields["seed"]
    earlier = (
        Round.objects.filter(region=region, created_by=by, status=Round.Status.OPEN, **same)
        .order_by("-pk")
        .first()
    )
    if earlier:
        return earlier, False
    return open_round(by=by, region=region, **fields), True


@transaction.atomic
def update_question(*, by, question: Question, **changes) -> Question:
    """Edit one questionnaire item; refused once the round has a ballot (the questionnaire is locked)."""
    _require_office(by, Round)
    round_ = Round.objects.select_for_update().get(pk=question.round_id)
    _visible_or_refuse(Round.objects.managed_by(by), round_, by)
    if round_.ballots.exists():
        raise ValidationError(_("本轮已收到评议票，问卷已锁定，不能再修改。"))
    for field, value in changes.items():
        setattr(question, field, value)
    question.full_clean(exclude=["round"])
    question.save(update_fields=list(changes))
    return question


@transaction.atomic
def add_question(*, by, round_: Round, text: str, kind: str, **fields) -> Question:
    """Append an item to the questionnaire; refused once the round has a ballot."""
    _require_office(by, Round)
    _visible_or_refuse(Round.objects.managed_by(by), round_, by)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.ballots.exists():
        raise ValidationError(_("本轮已收到评议票，问卷已锁定，不能再修改。"))
    last = round_.questions.order_by("-order").first()
    order = (last.order if last else 0) + 1
    question = Question(round=round_, order=order, code=f"q{order}", text=text, kind=kind, **fields)
    question.full_clean()
    question.save()
    return question


@transaction.atomic
def register_collector(
    *, by, user, region: Region, kind: str, name: str, phone: str = "", unit=None
) -> Collector:
    """Mark an account as a collector: office staff seated in the office's region, or a volunteer's
    account (one with no role); registering it again updates it. A collector another office
    registered outside this office's region is refused."""
    _require_office(by, Collector)
    if not Region.objects.visible_to(by).filter(pk=region.pk).exists():
        raise ValidationError({"region": _("不在您的管辖范围内。")})
    accounts = type(user).objects
    staff = accounts.managed_by(by).filter(pk=user.pk).exists()
    volunteer = is_volunteer(user)
    if not (staff or volunteer):
        raise ValidationError({"user": _("该账号不在您的管辖范围内。")})
    earlier = Collector.objects.filter(user=user).first()
    if earlier and not Collector.objects.visible_to(by).filter(pk=earlier.pk).exists():
        raise ValidationError({"user": _("该账号已由其他双联办登记为采集员。")})
    if kind not in Collector.Kind.values:
        raise ValidationError({"kind": _("请选择采集员类别。")})
    if not name.strip():
        raise ValidationError({"name": _("请填写采集员姓名。")})
    collector, _created = Collector.objects.update_or_create(
        user=user,
        defaults={
            "region": region,
            "kind": kind,
            "name": name.strip(),
            "phone": phone.strip(),
            "unit": unit,
            "active": True,
            "registered_by": by,
        },
    )
    return collector


def _own_unit_refusal(collector: Collector, samples) -> str | None:
    own = [s for s in samples if collector.unit_id and s.cadre_unit_id == collector.unit_id]
    if not own:
        return None
    names = "、".join(s.household.head_name for s in own[:5])
    return _("采集员%(name)s与以下农户的帮扶干部同属一个单位，不能评议本单位干部：%(households)s") % {
        "name": collector.name,
        "households": names,
    }


@transaction.atomic
def assign_collector(*, by, round_: Round, collector: Collector, samples) -> int:
    """Give these sampled households (still to collect) to a collector; refused whole when any of them
    is helped by a cadre of the collector's unit. Returns how many rows changed."""
    _require_office(by, Round)
    _visible_or_refuse(Round.objects.managed_by(by), round_, by)
    if not round_.is_open:
        raise ValidationError(_("本轮评议已结束。"))
    if not collector.active:
        raise ValidationError(_("该采集员已停用。"))
    rows = list(
        SampledHousehold.objects.visible_to(by)
        .filter(round=round_, pk__in=[s.pk for s in samples])
        .select_related("household")
        .select_for_update(of=("self",))
    )
    refusal = _own_unit_refusal(collector, rows)
    if refusal:
        raise ValidationError(refusal)
    pending = [row.pk for row in rows if row.status == SampledHousehold.Status.PENDING]
    return SampledHousehold.objects.filter(pk__in=pending).update(
        collector=collector, collector_unit=collector.unit
    )


def clean_answers(questions, answers: dict) -> dict:
    """The answers kept for these questions, or a ValidationError naming the question at fault."""
    cleaned = {}
    for question in questions:
        value = answers.get(question.code)
        note = (answers.get(f"{question.code}__text") or "").strip()
        if question.kind == Question.Kind.TEXT:
            value = (value or "").strip()
            if value:
                cleaned[question.code] = value[:1000]
            elif question.required:
                raise ValidationError(_("请回答：%(q)s") % {"q": question.text})
            continue
        if question.kind == Question.Kind.MULTIPLE:
            values = value if isinstance(value, list) else ([value] if value else [])
            unknown = [v for v in values if v not in question.values]
            if unknown:
                raise ValidationError(_("“%(q)s”没有选项“%(v)s”。") % {"q": question.text, "v": unknown[0]})
            if not values and question.required:
                raise ValidationError(_("请回答：%(q)s") % {"q": question.text})
            if values:
                cleaned[question.code] = [v for v in question.values if v in values]
        else:
            if not value:
                if question.required:
                    raise ValidationError(_("请回答：%(q)s") % {"q": question.text})
                continue
            if value not in question.values:
                raise ValidationError(_("“%(q)s”没有选项“%(v)s”。") % {"q": question.text, "v": value})
            cleaned[question.code] = value
        if (
            question.text_required_for
            and cleaned.get(question.code) == question.text_required_for
            and not note
        ):
            raise ValidationError(
                _("“%(q)s”选“%(v)s”时，请写明具体情况。") % {"q": question.text, "v": value}
            )
        if note and (question.allow_text or question.text_required_for):
            cleaned[f"{question.code}__text"] = note[:1000]
    return cleaned


def _refuse_outside_window(round_: Round, day: datetime.date) -> None:
    if not round_.is_open:
        raise ValidationError(_("本轮评议已结束，不能再提交评议票。"))
    if not round_.starts_on <= day <= round_.ends_on:
        raise ValidationError(
            _("不在本轮收集时间内（%(start)s至%(end)s）。")
            % {"start": round_.starts_on, "end": round_.ends_on}
        )


@transaction.atomic
def record_ballot(
    *, by, sample: SampledHousehold, mode: str, answers: dict, collected_at: datetime.datetime | None = None
) -> tuple[Ballot, bool]:
    """Save a household's ballot, collected by the collector it is assigned to.

    The unique insert decides: pressed twice with the same answers, the first ballot is returned
    (created False); a different second ballot is refused, and only the office may correct one."""
    sample = SampledHousehold.objects.select_related("round", "collector", "household").get(pk=sample.pk)
    round_ = sample.round
    collector = getattr(by, "collector", None) if by.is_authenticated else None
    if collector is None or sample.collector_id != collector.pk or not collector.active:
        raise PermissionDenied
    collected_at = collected_at or timezone.now()
    _refuse_outside_window(round_, timezone.localdate(collected_at))
    if sample.status == SampledHousehold.Status.UNREACHABLE:
        raise ValidationError(_("该户已登记为无法联系，不能再提交评议票。"))
    if collector.unit_id and collector.unit_id == sample.cadre_unit_id:
        raise ValidationError(_("采集员不能评议本单位干部。"))
    if mode not in Ballot.Mode.values:
        raise ValidationError({"mode": _("请选择采集方式：入户或电话。")})
    cleaned = clean_answers(list(round_.questions.all()), answers)
    return insert_ballot(
        sample=sample, collector=collector, collected_at=collected_at, mode=mode, answers=cleaned
    )


def insert_ballot(
    *, sample, collector, collected_at, mode: str, answers: dict, source: str = Ballot.Source.PHONE
) -> tuple[Ballot, bool]:
    """Insert checked answers (the phone page's and the paper sheet's common last step): the unique
    insert decides, the sample is marked collected, and a 有 to 八个不准 opens a case. Call it
    inside a transaction, after every check."""
    round_ = sample.round
    try:
        with transaction.atomic():
            ballot = Ballot.objects.create(
                round=round_,
                household=sample.household,
                sample=sample,
                collector=collector,
                collected_at=collected_at,
                mode=mode,
                answers=answers,
                source=source,
            )
    except IntegrityError:
        earlier = Ballot.objects.filter(round=round_, household=sample.household).first()
        if (
            earlier
            and earlier.answers == answers
            and earlier.mode == mode
            and earlier.collector_id == collector.pk
        ):
            return earlier, False
        raise ValidationError(
            _("%(household)s本轮已有评议票，不能重复提交；如需更正，请联系双联办。")
            % {"household": sample.household}
        )
    SampledHousehold.objects.filter(pk=sample.pk).update(status=SampledHousehold.Status.COLLECTED)
    open_violation_case(ballot=ballot, cadre_id=sample.cadre_id)
    return ballot, True


def open_violation_case(*, ballot: Ballot, cadre_id: int) -> ViolationCase | None:
    """A ballot answering 有 to 八个不准 opens a case for the office (once per ballot)."""
    if ballot.answers.get(VIOLATION) != "有":
        return None
    case, _created = ViolationCase.objects.get_or_create(
        ballot=ballot,
        defaults={
            "round_id": ballot.round_id,
            "cadre_id": cadre_id,
            "report": ballot.answers.get(f"{VIOLATION}__text", ""),
        },
    )
    return case


@transaction.atomic
def mark_unreachable(*, by, sample: SampledHousehold, reason: str, note: str = "") -> SampledHousehold | None:
    """Record why a sampled household could not be reached and draw its substitute from the round's seed.

    The substitute is the next household of the same group's permutation not yet in the sample; it
    goes to the same collector unless that collector is of the substitute's cadre's unit. Pressed
    twice, the first substitute is returned. None when the group has no household left."""
    sample = (
        SampledHousehold.objects.select_for_update(of=("self",))
        .select_related("round", "collector")
        .get(pk=sample.pk)
    )
    round_ = sample.round
    collector = getattr(by, "collector", None)
    is_office = can_write(by, Round) and SampledHousehold.objects.visible_to(by).filter(pk=sample.pk).exists()
    if not is_office and (collector is None or sample.collector_id != collector.pk):
        raise PermissionDenied
    if reason not in SampledHousehold.Unreachable.values:
        raise ValidationError({"reason": _("请选择无法联系的原因：外出、拒访或无人在家。")})
    if sample.status == SampledHousehold.Status.UNREACHABLE:
        return SampledHousehold.objects.filter(substitute_for=sample).first()
    if sample.status == SampledHousehold.Status.COLLECTED:
        raise ValidationError(_("该户已提交评议票。"))
    _refuse_outside_window(round_, timezone.localdate())
    sample.status = SampledHousehold.Status.UNREACHABLE
    sample.unreachable_reason, sample.unreachable_note = reason, note[:200]
    sample.marked_by, sample.marked_at = by, timezone.now()
    sample.save(update_fields=["status", "unreachable_reason", "unreachable_note", "marked_by", "marked_at"])
    # Lock the round so that two substitutes drawn at once cannot pick the same household.
    Round.objects.select_for_update().filter(pk=round_.pk).first()
    taken = set(round_.samples.values_list("household_id", flat=True))
    found = sampling.next_substitute(round_, sample.group_key, taken)
    if found is None:
        return None
    order, candidate = found
    keeps_collector = sample.collector and sample.collector.unit_id != candidate.unit_id
    return SampledHousehold.objects.create(
        round=round_,
        household_id=candidate.household_id,
        cadre_id=candidate.cadre_id,
        cadre_unit_id=candidate.unit_id,
        group_key=sample.group_key,
        order=order,
        substitute_for=sample,
        collector=sample.collector if keeps_collector else None,
        collector_unit=sample.collector.unit if keeps_collector else None,
    )


@transaction.atomic
def close_round(*, by, round_: Round) -> Round:
    """End collection and look for integrity flags; pressing it again changes nothing."""
    _require_office(by, Round)
    _visible_or_refuse(Round.objects.managed_by(by), round_, by)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.is_open:
        round_.status, round_.closed_by, round_.closed_at = Round.Status.CLOSED, by, timezone.now()
        round_.save(update_fields=["status", "closed_by", "closed_at"])
        _store_flags(round_)
        _store_scores(round_)
    return round_


@transaction.atomic
def compute_scores(*, by, round_: Round) -> tuple[int, int]:
    """Compute and keep every cadre's and unit's score now (closing the round does it too), so that
    the pages of a large round read stored rows. Returns (cadres, units)."""
    _require_office(by, Round)
    _visible_or_refuse(Round.objects.managed_by(by), round_, by)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    return _store_scores(round_)


def _store_scores(round_: Round) -> tuple[int, int]:
    counts = scores.store(round_)
    round_.scored_at = timezone.now()
    round_.save(update_fields=["scored_at"])
    return counts


@transaction.atomic
def correct_ballot(*, by, ballot: Ballot, answers: dict, reason: str) -> Ballot:
    """An office changes a submitted ballot; the old and new answers are kept in a correction row."""
    _require_office(by, Ballot)
    _visible_or_refuse(Ballot.objects, ballot, by)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写更正理由。")})
    ballot = Ballot.objects.select_for_update().get(pk=ballot.pk)
    cleaned = clean_answers(list(ballot.round.questions.all()), answers)
    if cleaned == ballot.answers:
        return ballot
    BallotCorrection.objects.create(
        ballot=ballot, old_answers=ballot.answers, new_answers=cleaned, reason=reason.strip()[:200], by=by
    )
    ballot.answers, ballot.corrected = cleaned, True
    ballot.save(update_fields=["answers", "corrected"])
    open_violation_case(ballot=ballot, cadre_id=ballot.sample.cadre_id)
    return ballot


@transaction.atomic
def settle_violation_case(*, by, case: ViolationCase, status: str, outcome: str) -> ViolationCase:
    """The office records where a 八个不准 case stands (核查中, 属实, 不属实) and its outcome; a
    settled case needs the outcome written. Pressed twice with the same, nothing changes."""
    _require_office(by, Ballot)
    _visible_or_refuse(ViolationCase.objects, case, by)
    case = ViolationCase.objects.select_for_update().get(pk=case.pk)
    if status not in ViolationCase.Status.values:
        raise ValidationError({"status": _("请选择核查状态：核查中、属实或不属实。")})
    outcome = outcome.strip()
    if status != ViolationCase.Status.CHECKING and not outcome:
        raise ValidationError({"outcome": _("核查结论为“%(s)s”时，请写明核查结果。") % {"s": status}})
    if (case.status, case.outcome) == (status, outcome):
        return case
    case.status, case.outcome = status, outcome[:2000]
    case.updated_by, case.updated_at = by, timezone.now()
    case.save(update_fields=["status", "outcome", "updated_by", "updated_at"])
    return case


@transaction.atomic
def refresh_flags(*, by, round_: Round) -> int:
    """Look at the round's ballots again (evaluation.flags) and keep a Flag per finding: a new
    finding is added, a known one gets its reason refreshed and keeps the office's check, one no
    longer found is removed unless it was checked. Returns the number of flags now standing."""
    _require_office(by, Round)
    _visible_or_refuse(Round.objects.managed_by(by), round_, by)
    return _store_flags(round_)


def _store_flags(round_: Round) -> int:
    found = {(f.kind, f.key): f for f in flags.find(round_)}
    known = {(f.kind, f.key): f for f in Flag.objects.filter(round=round_)}
    Flag.objects.filter(
        pk__in=[f.pk for k, f in known.items() if k not in found and not f.checked_at]
    ).delete()
    for key, finding in found.items():
        flag = known.get(key)
        if flag is None:
            Flag.objects.create(
                round=round_,
                kind=finding.kind,
                key=finding.key,
                village_id=finding.village_id,
                reason=finding.reason,
            )
        elif flag.reason != finding.reason:
            flag.reason = finding.reason
            flag.save(update_fields=["reason"])
    return Flag.objects.filter(round=round_).count()


@transaction.atomic
def check_flag(*, by, flag: Flag, note: str = "") -> Flag:
    """The office marks a flag checked (核实), with a note; pressed twice, the first mark stays."""
    _require_office(by, Round)
    _visible_or_refuse(Flag.objects, flag, by)
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.checked_at is None:
        flag.checked_by, flag.checked_at, flag.check_note = by, timezone.now(), note.strip()[:200]
        flag.save(update_fields=["checked_by", "checked_at", "check_note"])
    return flag
