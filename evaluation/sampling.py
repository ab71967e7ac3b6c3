"""The draw of a round's sample, repeatable from the round's recorded seed.

Candidates are the poor households on the register (在册 or 已脱贫) of the round's region with an
open responsible pairing, in a fixed order (the head's resident ID, which every copy of the data
shares, unlike database ids). They are grouped (per cadre, per village, or one group), and each
group is shuffled by its own random.Random seeded with "<seed>:<group key>": the first k of each
permutation are drawn, and an unreachable household's substitute is the next one of the same
permutation not yet in the sample. Anyone with the seed and the same register gets the same households.
"""

import math
import random
from dataclasses import dataclass

from households.choices import POOR_CATEGORIES, HouseholdStatus
from pairing.models import Pairing

ALL_GROUP = "全部"


@dataclass(frozen=True)
class Candidate:
    household_id: int
    head_id_number: str
    village_id: str
    cadre_id: int
    unit_id: int


def candidates(round_, group_key: str | None = None) -> list[Candidate]:
    """The round's candidates in their fixed order (only one group's with group_key)."""
    pairings = (
        Pairing.objects.open()
        .responsible()
        .filter(
            household__village__code__startswith=round_.region.prefix,
            household__category__in=POOR_CATEGORIES,
            household__status__in=[HouseholdStatus.REGISTERED, HouseholdStatus.LIFTED],
        )
    )
    if group_key and group_key != ALL_GROUP:
        method = round_.SampleMethod
        if round_.sample_method == method.PER_CADRE:
            pairings = pairings.filter(cadre_id=int(group_key))
        elif round_.sample_method == method.PER_VILLAGE:
            pairings = pairings.filter(household__village_id=group_key)
    rows = pairings.values_list(
        "household_id", "household__head_id_number", "household__village_id", "cadre_id", "cadre__unit_id"
    ).order_by("household__head_id_number")
    return [Candidate(*row) for row in rows]


def group_key(round_, candidate: Candidate) -> str:
    method = round_.SampleMethod
    if round_.sample_method == method.PER_CADRE:
        return str(candidate.cadre_id)
    if round_.sample_method == method.PER_VILLAGE:
        return candidate.village_id
    return ALL_GROUP


def permutation(seed: int, key: str, members: list[Candidate]) -> list[Candidate]:
    """The group's members shuffled by the group's own generator (str seeds hash with SHA-512:
    the same in every Python process, unlike hash())."""
    ordered = sorted(members, key=lambda c: c.head_id_number)
    random.Random(f"{seed}:{key}").shuffle(ordered)
    return ordered


def how_many(round_, group_size: int) -> int:
    method = round_.SampleMethod
    if round_.sample_method == method.PER_CADRE:
        return min(round_.sample_parameter, group_size)
    if round_.sample_method == method.PER_VILLAGE:
        return min(group_size, math.ceil(group_size * round_.sample_parameter / 100))
    return group_size


def draw(round_) -> list[tuple[str, int, Candidate]]:
    """(group key, order within the group, candidate) for every household drawn."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates(round_):
        groups.setdefault(group_key(round_, candidate), []).append(candidate)
    drawn = []
    for key in sorted(groups):
        shuffled = permutation(round_.seed, key, groups[key])
        drawn += [(key, order, c) for order, c in enumerate(shuffled[: how_many(round_, len(shuffled))])]
    return drawn


def next_substitute(round_, key: str, taken: set[int]) -> tuple[int, Candidate] | None:
    """The first household of the group's permutation not yet in the sample, with its order."""
    for order, candidate in enumerate(permutation(round_.seed, key, candidates(round_, key))):
        if candidate.household_id not in taken:
            return order, candidate
    return None
