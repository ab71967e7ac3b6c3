"""The county's pairing rules, checked the same way by every path that pairs.

Pages, the proposal, the handover and the import all ask `RuleBook.check`, so a
rule is written once. The book is loaded per county in two queries; the facts
about cadres (current load, linked villages, exceptions) are loaded in bulk by
`CadreFacts.load`, so checking a thousand lines costs a handful of queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from households.choices import POOR_CATEGORIES
from households.models import Household
from shuanglian.lib.codes import county_code

from .models import Cadre, CountyRules, Pairing, PairingException, RankLimit, VillageLink


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    soft: bool = False  # a warning shown on coverage pages, not a refusal
    limit: bool = False  # a cadre's load limit: another cadre may still have room

    def __str__(self):
        return f"{self.rule}：{self.message}"


@dataclass(frozen=True)
class Limit:
    max_households: int
    max_poor: int
    min_poor: int


@dataclass
class Load:
    total: int = 0  # open pairings of any role
    poor: int = 0  # open responsible pairings


@dataclass
class CadreFacts:
    """What the rules need to know about a set of cadres, loaded in four queries."""

    loads: dict = field(default_factory=lambda: defaultdict(Load))
    linked_villages: dict = field(default_factory=lambda: defaultdict(set))  # unit_id -> village codes
    exceptions: dict = field(default_factory=lambda: defaultdict(set))  # cadre_id -> village codes
    helped_villages: dict = field(default_factory=lambda: defaultdict(set))  # cadre_id -> village codes

    @classmethod
    def load(cls, cadres) -> "CadreFacts":
        facts = cls()
        cadre_ids = [c.pk for c in cadres]
        unit_ids = {c.unit_id for c in cadres}
        rows = (
            Pairing.objects.open()
            .filter(cadre_id__in=cadre_ids)
            .values("cadre_id")
            .annotate(total=Count("pk"), poor=Count("pk", filter=Q(role=Pairing.Role.RESPONSIBLE)))
        )
        for row in rows:
            facts.loads[row["cadre_id"]] = Load(total=row["total"], poor=row["poor"])
        for cadre_id, village_id in (
            Pairing.objects.open()
            .filter(cadre_id__in=cadre_ids)
            .values_list("cadre_id", "household__village_id")
        ):
            facts.helped_villages[cadre_id].add(village_id)
        for unit_id, village_id in (
            VillageLink.objects.open().filter(unit_id__in=unit_ids).values_list("unit_id", "village_id")
        ):
            facts.linked_villages[unit_id].add(village_id)
        for cadre_id, village_id in PairingException.objects.filter(cadre_id__in=cadre_ids).values_list(
            "cadre_id", "village_id"
        ):
            facts.exceptions[cadre_id].add(village_id)
        return facts

    def add(self, cadre_id: int, role: str, village_id: str = "") -> None:
        if village_id:
            self.helped_villages[cadre_id].add(village_id)
        load = self.loads[cadre_id]
        load.total += 1
        if role == Pairing.Role.RESPONSIBLE:
            load.poor += 1


class RuleBook:
    """One county's rules: exempt categories, the linked-village rule and the limits per rank."""

    def __init__(self, county: str, exempt: list[str], linked_only: bool, limits: dict[str, Limit]):
        self.county = county
        self.exempt = set(exempt)
        self.linked_only = linked_only
        self.limits = limits

    @classmethod
    def for_county(cls, county: str) -> "RuleBook":
        settings_row = CountyRules.objects.filter(county_id=county).first() or CountyRules(county_id=county)
        limits = {
            rank: Limit(max_households=total, max_poor=poor, min_poor=1)
            for rank, (total, poor) in RankLimit.DEFAULTS.items()
        }
        for row in RankLimit.objects.filter(county_id=county):
            limits[row.rank] = Limit(row.max_households, row.max_poor, row.min_poor)
        return cls(county, settings_row.exempt_categories, settings_row.households_in_linked_villages, limits)

    def limit(self, cadre: Cadre) -> Limit:
        return self.limits[cadre.rank]

    def check(self, *, cadre: Cadre, household: Household, role: str, facts: CadreFacts) -> list[Violation]:
        """Every rule the pairing would break if it were opened now (hard ones refuse it)."""
        problems = []
        if cadre.category in self.exempt:
            problems.append(
                Violation(
                    _("豁免人员不联户"),
                    _("%(cadre)s 属于%(category)s，按本县规则不安排联户")
                    % {"cadre": cadre.name, "category": cadre.get_category_display()},
                )
            )
        if cadre.status != Cadre.Status.ACTIVE:
            problems.append(
                Violation(
                    _("在岗干部方可联户"),
                    _("%(cadre)s 已%(status)s") % {"cadre": cadre.name, "status": cadre.status},
                )
            )
        if role == Pairing.Role.RESPONSIBLE and household.category not in POOR_CATEGORIES:
            problems.append(
                Violation(
                    _("帮扶责任人只联系贫困户"),
                    _("%(household)s 是%(category)s，只能作为联系户")
                    % {"household": household, "category": household.category},
                )
            )
        load = facts.loads[cadre.pk]
        limit = self.limit(cadre)
        rank = cadre.get_rank_display()
        if load.total + 1 > limit.max_households:
            problems.append(
                Violation(
                    _("%(rank)s联系户上限") % {"rank": rank},
                    _("%(cadre)s 已联系 %(count)d 户，上限 %(limit)d 户")
                    % {"cadre": cadre.name, "count": load.total, "limit": limit.max_households},
                    limit=True,
                )
            )
        if role == Pairing.Role.RESPONSIBLE and load.poor + 1 > limit.max_poor:
            problems.append(
                Violation(
                    _("%(rank)s帮扶贫困户上限") % {"rank": rank},
                    _("%(cadre)s 已帮扶 %(count)d 户贫困户，上限 %(limit)d 户")
                    % {"cadre": cadre.name, "count": load.poor, "limit": limit.max_poor},
                    limit=True,
                )
            )
        if (
            self.linked_only
            and household.village_id not in facts.linked_villages[cadre.unit_id]
            and household.village_id not in facts.exceptions[cadre.pk]
        ):
            problems.append(
                Violation(
                    _("联系户须在本单位联系村"),
                    _("%(household)s 所在的%(village)s不是%(unit)s的联系村，且未登记例外")
                    % {"household": household, "village": household.village.name, "unit": cadre.unit.name},
                )
            )
        return problems

    def warnings(self, *, cadre: Cadre, facts: CadreFacts) -> list[Violation]:
        """Soft rules: shown on coverage pages, never blocking."""
        limit = self.limit(cadre)
        load = facts.loads[cadre.pk]
        if (
            cadre.category in self.exempt
            or cadre.status != Cadre.Status.ACTIVE
            or load.poor >= limit.min_poor
        ):
            return []
        return [
            Violation(
                _("帮扶贫困户下限"),
                _("%(cadre)s 帮扶 %(count)d 户贫困户，少于 %(limit)d 户")
                % {"cadre": cadre.name, "count": load.poor, "limit": limit.min_poor},
                soft=True,
            )
        ]


class RuleBooks(dict):
    """The rule books of the counties met so far, loaded once each."""

    def for_village(self, village_code: str) -> RuleBook:
        county = county_code(village_code)
        if county not in self:
            self[county] = RuleBook.for_county(county)
        return self[county]


def linked_cadres(household_ids) -> dict[int, set[int]]:
    """The cadres holding an open pairing with each household: a cadre pairs with a household once
    (the database refuses a second open pairing), so none of them may take it again in another role."""
    held = defaultdict(set)
    pairs = Pairing.objects.open().filter(household_id__in=list(household_ids))
    for household_id, cadre_id in pairs.values_list("household_id", "cadre_id"):
        held[household_id].add(cadre_id)
    return held


def already_linked(cadre: Cadre, household: Household) -> Violation:
    return Violation(
        _("一名干部对一户只结对一次"),
        _("%(cadre)s 已联系 %(household)s") % {"cadre": cadre.name, "household": household},
    )
