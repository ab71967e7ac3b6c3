"""公示名单: a village's poor households as posted on the village board.

Only what may be posted is read from the database at all (head's name, 户属性, 致贫原因, the
responsible cadre and unit, the help measures): resident IDs, phones and members' health never
reach the page, so no template can leak them. The digest of the rows tells whether the list has
changed since the township last recorded it as posted.
"""

import hashlib
import json
from dataclasses import asdict, dataclass

from households.choices import POOR_CATEGORIES, HouseholdStatus
from households.models import Household
from pairing.models import Pairing
from plans.models import HouseholdPlan, Measure

from .models import NoticePosting


@dataclass(frozen=True)
class Row:
    group: str
    head_name: str
    category: str
    causes: str
    cadre: str
    unit: str
    measures: str


def rows(village) -> list[Row]:
    households = list(
        Household.objects.filter(
            village=village, category__in=POOR_CATEGORIES, status=HouseholdStatus.REGISTERED
        )
        .order_by("group", "head_name", "id")
        .values_list("id", "group", "head_name", "category", "main_cause", "other_causes")
    )
    ids = [row[0] for row in households]
    helpers = dict(
        (household, (cadre, unit))
        for household, cadre, unit in Pairing.objects.open()
        .responsible()
        .filter(household_id__in=ids)
        .values_list("household_id", "cadre__name", "cadre__unit__name")
    )
    measures = {}
    for household, values in (
        HouseholdPlan.objects.filter(household_id__in=ids)
        .order_by("household_id", "year")
        .values_list("household_id", "measures")
    ):
        measures[household] = values  # the latest year's plan wins
    labels = dict(Measure.choices)
    found = []
    for pk, group, head, category, cause, others in households:
        cadre, unit = helpers.get(pk, ("", ""))
        causes = [cause] + [c for c in (others or []) if c != cause] if cause else list(others or [])
        found.append(
            Row(
                group=group,
                head_name=head,
                category=category,
                causes="、".join(causes),
                cadre=cadre,
                unit=unit,
                measures="、".join(str(labels.get(m, m)) for m in measures.get(pk, [])),
            )
        )
    return found


def digest(listed: list[Row]) -> str:
    text = json.dumps([asdict(row) for row in listed], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_posting(village):
    return NoticePosting.objects.filter(village=village).order_by("-posted_on", "-id").first()


def status(village, listed=None) -> tuple[NoticePosting | None, bool]:
    """(the latest posting, whether the list must be posted again: never posted, or changed since)."""
    listed = rows(village) if listed is None else listed
    posting = latest_posting(village)
    return posting, posting is None or posting.digest != digest(listed)
