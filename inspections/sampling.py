"""The draw of an inspection's sample of visits, repeatable from its recorded seed.

Candidates are the visits in the inspection's window of its townships' households or its units'
cadres, in id order. Each cadre's visits are drawn apart with a random.Random seeded with
"<seed>:<cadre id>": weighted sampling without replacement (Efraimidis–Spirakis: each visit gets
the key u ** (1 / weight) and the largest keys are drawn), a flagged visit weighing
settings.INSPECTION_FLAGGED_WEIGHT. The same seed on the same records gives the same visits.
"""

import random
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from visits.models import Visit

from .models import FlagVisit


@dataclass(frozen=True)
class Drawn:
    visit_id: int
    cadre_id: int
    unit_id: int
    township_code: str
    weight: int


def candidates(inspection) -> list[Drawn]:
    towns = [region.code[:9] for region in inspection.townships.all()]
    units = [unit.pk for unit in inspection.units.all()]
    where = Q(pk__in=[])
    for prefix in towns:
        where |= Q(household__village__code__startswith=prefix)
    if units:
        where |= Q(cadre__unit_id__in=units)
    visits = Visit.objects.filter(where, visited_on__range=(inspection.visits_from, inspection.visits_to))
    rows = list(
        visits.order_by("id").values_list("id", "cadre_id", "cadre__unit_id", "household__village_id")
    )
    flagged = set(
        FlagVisit.objects.filter(visit_id__in=[row[0] for row in rows]).values_list("visit_id", flat=True)
    )
    heavy = settings.INSPECTION_FLAGGED_WEIGHT
    return [
        Drawn(pk, cadre, unit, village[:9].ljust(12, "0"), heavy if pk in flagged else 1)
        for pk, cadre, unit, village in rows
    ]


def draw(inspection) -> list[Drawn]:
    """The sample in its order: per cadre (by id), the visits with the largest keys."""
    by_cadre = defaultdict(list)
    for candidate in candidates(inspection):
        by_cadre[candidate.cadre_id].append(candidate)
    drawn = []
    for cadre_id in sorted(by_cadre):
        rng = random.Random(f"{inspection.seed}:{cadre_id}")
        keyed = [(rng.random() ** (1 / c.weight), c) for c in by_cadre[cadre_id]]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        drawn += [c for _key, c in keyed[: inspection.per_cadre]]
    return drawn
