"""Match unpaired poor households to cadres of the units that link their villages.

Deterministic: households are taken in village, group and id order; a household
goes to the eligible cadre who already helps in its village, then to the one
with the lowest share of their limit used, then by id. Every household that
cannot be placed gets the reason, in words an office can act on.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from households.models import Household

from .models import Cadre, Pairing, PairingException, VillageLink
from .rules import CadreFacts, RuleBooks, already_linked, linked_cadres


@dataclass
class Placement:
    household: Household
    cadre: Cadre | None
    reason: str = ""


def unpaired_poor_households(region_code_prefix: str):
    has_responsible = Pairing.objects.open().responsible().filter(household_id=OuterRef("pk"))
    return (
        Household.objects.filter(village__code__startswith=region_code_prefix)
        .poor_on_register()
        .exclude(Exists(has_responsible))
        .select_related("village")
        .order_by("village_id", "group", "pk")
    )


def candidate_cadres(village_codes: set[str], *, excluding: set[int] = frozenset()):
    """Cadres of units linking these villages, and cadres with an exception there: village -> cadres."""
    links = (
        VillageLink.objects.open().filter(village_id__in=village_codes).values_list("village_id", "unit_id")
    )
    units_by_village = defaultdict(set)
    for village_id, unit_id in links:
        units_by_village[village_id].add(unit_id)
    unit_ids = {unit for units in units_by_village.values() for unit in units}
    exception_rows = PairingException.objects.filter(village_id__in=village_codes).values_list(
        "village_id", "cadre_id"
    )
    excepted = defaultdict(set)
    for village_id, cadre_id in exception_rows:
        excepted[village_id].add(cadre_id)
    excepted_ids = {cadre for cadres in excepted.values() for cadre in cadres}
    cadres = list(
        Cadre.objects.filter(Q(unit_id__in=unit_ids) | Q(pk__in=excepted_ids), status=Cadre.Status.ACTIVE)
        .exclude(pk__in=excluding)
        .select_related("unit")
        .order_by("pk")
    )
    by_village = {}
    for village_id in village_codes:
        by_village[village_id] = [
            c for c in cadres if c.unit_id in units_by_village[village_id] or c.pk in excepted[village_id]
        ]
    return by_village, units_by_village, cadres


def place(
    households: list[Household], *, excluding: set[int] = frozenset(), roles: dict | None = None
) -> list[Placement]:
    """Choose a cadre for each household, within every rule; never writes.

    `roles` maps a household's pk to the role to fill (a handover passes each pairing's own role);
    the rest get a responsible cadre. The reason a household is left unplaced is read from the
    same rule checks that refused its candidates, so the message and the decision cannot differ.
    """
    roles = roles or {}
    villages = {h.village_id for h in households}
    by_village, units_by_village, cadres = candidate_cadres(villages, excluding=excluding)
    facts = CadreFacts.load(cadres)
    held = linked_cadres(household.pk for household in households)
    books = RuleBooks()
    placements = []
    for household in households:
        book = books.for_village(household.village_id)
        role = roles.get(household.pk, Pairing.Role.RESPONSIBLE)
        refusals = {
            cadre.pk: (
                [already_linked(cadre, household)]
                if cadre.pk in held[household.pk]
                else book.check(cadre=cadre, household=household, role=role, facts=facts)
            )
            for cadre in by_village[household.village_id]
        }
        eligible = [cadre for cadre in by_village[household.village_id] if not refusals[cadre.pk]]
        if not eligible:
            placements.append(
                Placement(household, None, _why_unplaced(household, units_by_village, refusals))
            )
            continue

        def preference(cadre, household=household, book=book):
            limit = book.limit(cadre)
            load = facts.loads[cadre.pk]
            same_village = household.village_id in facts.helped_villages[cadre.pk]
            return (not same_village, load.poor / max(limit.max_poor, 1), load.poor, cadre.pk)

        chosen = min(eligible, key=preference)
        facts.add(chosen.pk, role, household.village_id)
        placements.append(Placement(household, chosen))
    return placements


REASON_LENGTH = 200  # ProposalLine/HandoverLine.unplaced_reason


def _why_unplaced(household, units_by_village, refusals: dict) -> str:
    """Why no candidate may take the household, from the violations that refused each one."""
    village = household.village.name
    if not refusals:
        if not units_by_village[household.village_id]:
            return _("%(village)s没有联系单位") % {"village": village}
        return _("%(village)s的联系单位没有在岗干部") % {"village": village}
    exempt_rule = _("豁免人员不联户")
    usable = {pk: broken for pk, broken in refusals.items() if all(v.rule != exempt_rule for v in broken)}
    if not usable:
        return _("%(village)s的联系单位没有可联户的在岗干部") % {"village": village}
    if all(v.limit for broken in usable.values() for v in broken):
        return _("%(village)s联系单位的 %(count)d 名可联户干部均已达到帮扶上限") % {
            "village": village,
            "count": len(usable),
        }
    # Some other rule refused them: name each rule with how many candidates it refused.
    per_rule = Counter(rule for broken in usable.values() for rule in dict.fromkeys(v.rule for v in broken))
    listed = "；".join(
        _("%(rule)s（%(count)d 名）") % {"rule": rule, "count": count} for rule, count in per_rule.items()
    )
    reason = _("%(village)s联系单位的 %(count)d 名可联户干部都不符合规则：%(rules)s") % {
        "village": village,
        "count": len(usable),
        "rules": listed,
    }
    return reason[:REASON_LENGTH]
