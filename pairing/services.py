"""Operations that open and end links and pairings, propose them and hand them over.

Each is one transaction and checks the county's rules (pairing/rules.py) at the
moment it writes, so a page that was opened earlier cannot slip a stale choice in.

An office acts only on pairings of households it may see (`Household.objects.visible_to`):
every operation given the acting user (`by`) refuses, or leaves for the right office, the
households outside that user's scope, whatever page or import called it. `by=None` is a
system write (the demo loader, a command), not a user's.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, Region
from shuanglian.lib import dates
from shuanglian.lib.history import recorded

from . import matching, review, standings, tallies
from .models import Cadre, DatedRelation, Handover, HandoverLine, Pairing, Proposal, ProposalLine, VillageLink
from .review import Placement, RuleBroken
from .rules import CadreFacts, RuleBooks, already_linked


class OutOfScope(ValidationError):
    """The actor may not see a household (or place) the operation would touch.

    The message names nothing: a household outside the scope is not confirmed to exist.
    """


class NothingToPlace(ValidationError):
    """A proposal would hold no household to pair; the message says why."""


def _out_of_scope(message=None) -> OutOfScope:
    return OutOfScope(message or _("所选农户不在您的管辖范围内，须由其所在地的双联办办理"))


def _require_households_in_scope(by, households) -> None:
    if by is None:
        return
    wanted = {household.pk for household in households}
    seen = set(Household.objects.visible_to(by).filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - seen:
        raise _out_of_scope()


def _already_paired_message(household: Household) -> str | None:
    current = household.pairings.open().responsible().select_related("cadre").first()
    if current:
        return _("%(household)s 已有帮扶责任人 %(cadre)s") % {
            "household": household,
            "cadre": current.cadre.name,
        }
    return None


def check_pairing(*, cadre: Cadre, household: Household, role: str) -> list[str]:
    """The hard rules a new pairing would break now, as messages (empty when it may open)."""
    problems = []
    if role == Pairing.Role.RESPONSIBLE:
        message = _already_paired_message(household)
        if message:
            problems.append(message)
    if household.pairings.open().filter(cadre=cadre).exists():
        problems.append(already_linked(cadre, household).message)
    book = RuleBooks().for_village(household.village_id)
    facts = CadreFacts.load([cadre])
    problems += [str(v) for v in book.check(cadre=cadre, household=household, role=role, facts=facts)]
    return problems


def opened_already(*, user, household_ids, cadre_id: int, role: str, started_on: datetime.date) -> bool:
    """Whether every pairing a form asks for is open already, from that date, as the first press of
    a double click left it: the second press then lands on the result instead of being refused
    as 「已联系」. Only households `user` sees count, so nothing is confirmed about others.
    A read (it writes nothing, so it takes no actor)."""
    wanted = set(household_ids)
    if not wanted:
        return False
    opened = (
        Pairing.objects.open()
        .filter(cadre_id=cadre_id, role=role, started_on=started_on, household_id__in=wanted)
        .filter(household__in=Household.objects.visible_to(user).values("pk"))
    )
    return opened.count() == len(wanted)


@recorded
@transaction.atomic
def pair(
    *, cadre: Cadre, household: Household, started_on: datetime.date, by=None, role=Pairing.Role.RESPONSIBLE
):
    """Open a pairing if every rule allows it; the database refuses a second responsible cadre."""
    dates.check_date(started_on, _("开始日期"))
    # Lock the cadre so that two clerks cannot both hand out their last free place.
    _require_households_in_scope(by, [household])
    Cadre.objects.select_for_update().filter(pk=cadre.pk).exists()
    problems = check_pairing(cadre=cadre, household=household, role=role)
    if problems:
        raise RuleBroken(problems)
    pairing = Pairing.objects.create(
        cadre=cadre, household=household, role=role, started_on=started_on, created_by=by
    )
    tallies.count_opened([pairing])
    return pairing


@recorded
@transaction.atomic
def pair_many(
    *, cadre: Cadre, households: list, started_on: datetime.date, by=None, role=Pairing.Role.RESPONSIBLE
):
    """Pair several households with one cadre: all of them, or none if any line breaks a rule."""
    _require_households_in_scope(by, households)
    dates.check_date(started_on, _("开始日期"))
    review.lock_cadres([cadre])
    placements = [Placement(household, cadre, role) for household in households]
    paired = review.paired_now(households) if role == Pairing.Role.RESPONSIBLE else {}
    review.check_placements(placements, paired=paired)
    return review.open_pairings(placements, started_on=started_on, by=by)


@recorded
@transaction.atomic
def link_village(*, unit, village, started_on: datetime.date, by=None) -> VillageLink:
    dates.check_date(started_on, _("开始日期"))
    return VillageLink.objects.create(unit=unit, village=village, started_on=started_on, created_by=by)


@recorded
def end_relation(*, relation: DatedRelation, ended_on: datetime.date, reason: str, by=None) -> None:
    """End a link or pairing; nothing is deleted, so the history stays.

    Given the acting user, a pairing must be of a household it sees, a link one it sees.
    """
    dates.check_date(ended_on, _("结束日期"))
    if by is not None:
        if isinstance(relation, Pairing):
            in_scope = Pairing.objects.of_visible_households(by)
        else:
            in_scope = VillageLink.objects.visible_to(by)
        if not in_scope.filter(pk=relation.pk).exists():
            raise _out_of_scope()
    if ended_on < relation.started_on:
        raise ValidationError(
            _("结束日期不能早于开始日期（%(start)s）"), params={"start": relation.started_on}
        )
    relation.ended_on = ended_on
    relation.end_reason = reason
    with transaction.atomic():
        # Off the cadre's load only if this write ends it: locked, so a second end does not count twice.
        was_open = isinstance(relation, Pairing) and (
            Pairing.objects.select_for_update().filter(pk=relation.pk, ended_on__isnull=True).exists()
        )
        relation.save(update_fields=["ended_on", "end_reason"])
        if was_open:
            tallies.count_ended([relation])


# --- Proposals ----------------------------------------------------------------------------------


def create_proposal(**kwargs) -> Proposal:
    """The proposal generate_proposal returns, new or already waiting."""
    return generate_proposal(**kwargs)[0]


@recorded
@transaction.atomic
def generate_proposal(*, region, started_on: datetime.date, by) -> tuple[Proposal, bool]:
    """Suggest a responsible cadre for every unpaired poor household in a township or village:
    (proposal, created).

    A draft for the same place and date already waiting for review is returned instead (created
    False): a double-clicked 生成方案 makes one proposal. Decided under a lock on the region's
    row, so two presses at once cannot both find none."""
    dates.check_date(started_on, _("结对日期"))
    if not Region.objects.visible_to(by).filter(code=region.code).exists():
        raise _out_of_scope(_("所选范围不在您的管辖范围内"))
    Region.objects.select_for_update().filter(pk=region.pk).first()
    waiting = Proposal.objects.filter(
        region=region, started_on=started_on, status=Proposal.Status.DRAFT
    ).first()
    if waiting:
        return waiting, False
    households = list(matching.unpaired_poor_households(region.prefix))
    if not households:
        raise NothingToPlace(
            _("%(region)s没有未落实帮扶责任人的贫困户，无需生成方案") % {"region": region.name}, code="empty"
        )
    placements = matching.place(households)
    if not any(placement.cadre for placement in placements):
        # A proposal of unplaced lines only gives the reviewer nothing to apply: say why instead.
        reasons = list(dict.fromkeys(placement.reason for placement in placements))
        raise NothingToPlace(
            _("%(region)s的 %(count)d 户贫困户都无法安排帮扶责任人，未生成方案：%(reasons)s")
            % {"region": region.name, "count": len(households), "reasons": "；".join(reasons)},
            code="unplaceable",
        )
    proposal = Proposal.objects.create(region=region, started_on=started_on, proposed_by=by)
    ProposalLine.objects.bulk_create(
        ProposalLine(
            proposal=proposal,
            household=placement.household,
            suggested_cadre=placement.cadre,
            cadre=placement.cadre,
            unplaced_reason=placement.reason,
        )
        for placement in placements
    )
    return proposal, True


@recorded
@transaction.atomic
def discard_proposal(*, proposal: Proposal, by) -> bool:
    """作废 a draft proposal: True if this call discarded it, False if it already was (a second press).

    An applied proposal cannot be discarded: its pairings exist and end one by one."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if by is not None and not Proposal.objects.visible_to(by).filter(pk=proposal.pk).exists():
        raise _out_of_scope(_("该方案不在您的管辖范围内"))
    if proposal.status == Proposal.Status.DISCARDED:
        return False
    if proposal.status != Proposal.Status.DRAFT:
        raise ValidationError(_("方案已%(status)s，不能作废") % {"status": proposal.status}, code="status")
    proposal.status = Proposal.Status.DISCARDED
    proposal.reviewed_by = by
    proposal.save(update_fields=["status", "reviewed_by"])
    return True


@recorded
def change_line(*, line: ProposalLine, cadre: Cadre | None, removed: bool, by) -> None:
    _require_households_in_scope(by, [line.household])
    if line.proposal.status != Proposal.Status.DRAFT:
        raise ValidationError(_("方案已%(status)s，不能再修改") % {"status": line.proposal.status})
    line.cadre = cadre
    line.removed = removed
    line.changed_by = by
    line.save(update_fields=["cadre", "removed", "changed_by"])


@recorded
def change_lines(*, changes, by) -> int:
    """Save the line editor's choices: `changes` pairs each line with its {"cadre", "removed"}; the
    lines that change are saved (change_line) in one transaction. The number saved."""
    return review.save_edits(changes, save=lambda line, **values: change_line(line=line, by=by, **values))


@recorded
@transaction.atomic
def apply_proposal(*, proposal: Proposal, by) -> int | None:
    """Open every kept line's pairing in one transaction, re-checking every rule now; returns how
    many, or None when the proposal was applied already (a second press writes nothing).

    All or nothing: if any line breaks a rule (say a colleague paired the household
    meanwhile), nothing is written and the messages say which lines to fix.
    """
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status == Proposal.Status.APPLIED:
        return None  # the second press of 审核通过并实施: the first applied it
    if proposal.status != Proposal.Status.DRAFT:
        raise ValidationError(_("方案已%(status)s，不能重复实施") % {"status": proposal.status})
    if (
        by is not None
        and proposal.lines.exclude(household__in=Household.objects.visible_to(by).values("pk")).exists()
    ):
        raise _out_of_scope(_("方案中有农户不在您的管辖范围内，不能实施"))
    lines = list(
        proposal.lines.filter(removed=False, cadre__isnull=False).select_related(
            "household__village", "cadre__unit"
        )
    )
    review.lock_cadres({line.cadre_id: line.cadre for line in lines}.values())
    placements = [Placement(line.household, line.cadre) for line in lines]
    review.check_placements(placements, paired=review.paired_now([line.household for line in lines]))
    try:
        review.open_pairings(placements, started_on=proposal.started_on, by=by)
    except IntegrityError:
        raise RuleBroken([_("有农户刚刚被他人安排了帮扶责任人，请重新打开方案核对")]) from None
    proposal.status = Proposal.Status.APPLIED
    proposal.reviewed_by = by
    proposal.applied_at = timezone.now()
    proposal.save(update_fields=["status", "reviewed_by", "applied_at"])
    return len(lines)


# --- Handovers ----------------------------------------------------------------------------------


@recorded
@transaction.atomic
def start_handover(*, cadre: Cadre, new_status: str, effective_on: datetime.date, by) -> Handover:
    """List the leaving cadre's households with a successor proposed for each by the same rules.

    One handover per leaving cadre: starting again (another office, a second press) returns the
    one still waiting, with a line added for any pairing opened since. Lines cover every household
    of the cadre, but each office reads and applies only those of households it sees.
    """
    dates.check_date(effective_on, _("交接日期"))
    if by is not None and not Cadre.objects.visible_to(by).filter(pk=cadre.pk).exists():
        raise _out_of_scope(_("该干部不在您的管辖范围内"))
    # Two offices pressing at once must not open two handovers of one cadre.
    Cadre.objects.select_for_update().filter(pk=cadre.pk).exists()
    # Locked so that a handover being applied meanwhile is not given a line after its last one.
    handover = Handover.objects.select_for_update().pending().filter(cadre=cadre).first()
    if handover is None:
        handover = Handover.objects.create(
            cadre=cadre, new_status=new_status, effective_on=effective_on, created_by=by
        )
    covered = handover.lines.pending().values("pairing_id")
    pairings = list(
        cadre.pairings.open()
        .exclude(pk__in=covered)
        .select_related("household__village")
        .order_by("household__village_id")
    )
    placements = {
        placement.household.pk: placement
        for placement in matching.place(
            [p.household for p in pairings],
            excluding={cadre.pk},
            roles={p.household_id: p.role for p in pairings},
        )
    }
    HandoverLine.objects.bulk_create(
        HandoverLine(
            handover=handover,
            pairing=pairing,
            successor=placements[pairing.household_id].cadre,
            unplaced_reason=placements[pairing.household_id].reason,
        )
        for pairing in pairings
    )
    return handover


@recorded
def set_successor(*, line: HandoverLine, successor: Cadre | None, by) -> None:
    """Choose (or clear) the successor on a waiting line of a household the actor sees."""
    _require_households_in_scope(by, [line.pairing.household])
    if line.applied_at is not None:
        raise ValidationError(_("该户的交接已实施，不能再修改"))
    line.successor = successor
    line.save(update_fields=["successor"])


@recorded
def set_successors(*, choices, by) -> int:
    """Save the handover editor's choices: `choices` pairs each waiting line with its {"successor"};
    the lines that change are saved (set_successor) in one transaction. The number saved."""
    return review.save_edits(choices, save=lambda line, **values: set_successor(line=line, by=by, **values))


@recorded
@transaction.atomic
def apply_handover(*, handover: Handover, by) -> int | None:
    """Apply the lines of households the actor sees: end those pairings on the handover date with
    the reason and open the successors' the same day. Returns the number of lines applied, or
    None when they were applied already (the second press of a double click writes nothing).

    Lines of households outside the actor's scope are left waiting for the office that sees them
    (`Handover.objects.waiting_for`); the handover is 部分实施 until the last line is applied,
    and only then is the cadre marked 调离/退休. A line whose pairing was ended meanwhile (the
    household moved out, say) is closed without opening a new one.
    """
    handover = Handover.objects.select_for_update().select_related("cadre").get(pk=handover.pk)
    if handover.status == Handover.Status.APPLIED:
        return None  # a second press: the first applied it
    pending = handover.lines.pending()
    mine = pending.visible_to(by) if by is not None else pending
    lines = list(mine.select_related("pairing__household__village", "successor__unit"))
    if not lines:
        if by is not None and handover.lines.visible_to(by).exists():
            return None  # a second press: the actor's share was applied by the first
        raise RuleBroken([_("本交接没有您辖区内待实施的农户；其他乡镇/县的农户由其所在地的双联办实施")])
    # Lock the pairings: another office's edit or a second press sees them ended, not open.
    ended = dict(
        Pairing.objects.select_for_update()
        .filter(pk__in=[line.pairing_id for line in lines])
        .values_list("pk", "ended_on")
    )
    live = [line for line in lines if ended[line.pairing_id] is None]
    missing = [line for line in live if line.successor_id is None]
    if missing:
        raise RuleBroken(
            [_("%(household)s 尚未确定接任干部") % {"household": line.pairing.household} for line in missing]
        )
    reason = (
        Pairing.EndReason.RETIREMENT
        if handover.new_status == Cadre.Status.RETIRED
        else Pairing.EndReason.TRANSFER
    )
    for line in live:
        end_relation(relation=line.pairing, ended_on=handover.effective_on, reason=reason)
    # The ended pairings are the households' responsible ones: nobody else holds them now.
    placements = [Placement(line.pairing.household, line.successor, line.pairing.role) for line in live]
    review.check_placements(placements)
    review.open_pairings(placements, started_on=handover.effective_on, by=by)
    now = timezone.now()
    HandoverLine.objects.filter(pk__in=[line.pk for line in lines]).update(applied_by=by, applied_at=now)
    if handover.lines.pending().exists():
        handover.status = Handover.Status.PARTIAL
        handover.save(update_fields=["status"])
        return len(lines)
    cadre = handover.cadre
    cadre.status = handover.new_status
    cadre.save(update_fields=["status", "updated_at"])
    standings.restate([cadre.pk])  # no longer counted among the active cadres
    handover.status = Handover.Status.APPLIED
    handover.applied_by = by
    handover.applied_at = now
    handover.save(update_fields=["status", "applied_by", "applied_at"])
    return len(lines)


def set_cadre_status(*, cadre: Cadre, status: str) -> None:
    """A cadre with open pairings leaves only through a handover, so no household is dropped."""
    if status != Cadre.Status.ACTIVE and cadre.pairings.open().exists():
        raise ValidationError(
            _("%(cadre)s 还有 %(count)d 户联系户，请先办理交接")
            % {"cadre": cadre.name, "count": cadre.pairings.open().count()}
        )
    cadre.status = status
    cadre.save(update_fields=["status", "updated_at"])
    standings.restate([cadre.pk])
