"""The shape proposals and handovers share, and the rule check every bulk pairing passes.

An office prepares lines (a household and the cadre proposed for it), edits them, and the reviewing
office applies them all or none, with every rule checked again at that moment (a colleague may
have paired a household, or filled a cadre's places, since the page was opened). services.py says
what differs: which lines a proposal or a handover holds, what its parent records when applied.
"""

from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from households.models import Household
from shuanglian.lib.history import record_bulk

from . import tallies
from .models import Cadre, Pairing
from .rules import CadreFacts, RuleBooks, already_linked, linked_cadres


class RuleBroken(ValidationError):
    """One or more pairing rules refused the operation; the messages name rule, cadre and numbers."""


class Placement(NamedTuple):
    """A pairing about to open: the household, its cadre, and as what."""

    household: Household
    cadre: Cadre
    role: str = Pairing.Role.RESPONSIBLE


def lock_cadres(cadres: Iterable[Cadre]) -> None:
    """Lock the cadres' rows so that two offices cannot both hand out a cadre's last free place."""
    Cadre.objects.select_for_update().filter(pk__in=[cadre.pk for cadre in cadres]).exists()


def paired_now(households: Iterable[Household]) -> dict[int, str]:
    """The households of `households` that have a responsible cadre now: {household pk: cadre name}."""
    return dict(
        Pairing.objects.open()
        .responsible()
        .filter(household_id__in=[household.pk for household in households])
        .values_list("household_id", "cadre__name")
    )


def rule_problems(
    placements: list[Placement], *, facts: CadreFacts, paired: dict[int, str], held: dict[int, set[int]]
) -> list[str]:
    """What the placements, opened together in this order, would break: a household that already
    has a responsible cadre (`paired`), a cadre already linked to the household (`held`), and each
    county rule, named with its household.

    Each placement counts towards its cadre's load for the ones after it (`facts` grows)."""
    books = RuleBooks()
    problems = []
    for placement in placements:
        household = placement.household
        if placement.role == Pairing.Role.RESPONSIBLE and household.pk in paired:
            problems.append(
                _("%(household)s 已有帮扶责任人 %(cadre)s")
                % {"household": household, "cadre": paired[household.pk]}
            )
            continue
        if placement.cadre.pk in held.get(household.pk, ()):
            problems.append(f"{household}：{already_linked(placement.cadre, household)}")
            continue
        broken = books.for_village(household.village_id).check(
            cadre=placement.cadre, household=household, role=placement.role, facts=facts
        )
        problems += [f"{household}：{violation}" for violation in broken]
        facts.add(placement.cadre.pk, placement.role)
    return problems


def check_placements(placements: list[Placement], *, paired: dict[int, str] | None = None) -> None:
    """Refuse (RuleBroken, every message at once) unless all the placements may open together."""
    facts = CadreFacts.load(list({placement.cadre.pk: placement.cadre for placement in placements}.values()))
    held = linked_cadres(placement.household.pk for placement in placements)
    problems = rule_problems(placements, facts=facts, paired=paired or {}, held=held)
    if problems:
        raise RuleBroken(problems)


def open_pairings(placements: list[Placement], *, started_on, by) -> list[Pairing]:
    """Write the pairings in one statement, count them on their cadres' loads, and record them."""
    pairings = Pairing.objects.bulk_create(
        Pairing(
            cadre=placement.cadre,
            household=placement.household,
            role=placement.role,
            started_on=started_on,
            created_by=by,
        )
        for placement in placements
    )
    tallies.count_opened(pairings)
    record_bulk(Pairing, pairings, by=by, created=True)  # bulk_create sends no signal
    return pairings


def _differs(line: models.Model, field: str, value) -> bool:
    if isinstance(value, models.Model) or (value is None and hasattr(line, f"{field}_id")):
        return getattr(line, f"{field}_id") != (value.pk if value is not None else None)
    return getattr(line, field) != value


@transaction.atomic
def save_edits(edits: Iterable[tuple[models.Model, dict]], *, save: Callable[..., None]) -> int:
    """Save each line's edit (its field values) that changes the line, through `save(line=…, **values)`,
    all in one transaction: a refusal of one line leaves every line as it was. The number saved."""
    saved = 0
    for line, values in edits:
        if any(_differs(line, field, value) for field, value in values.items()):
            save(line=line, **values)
            saved += 1
    return saved
