"""The demo plan: every row load_demo writes, computed in memory before anything is written.

The plan depends only on the region tree (read in code order) and a fixed seed and reference
date, so two runs on any machine compute the same rows; the command compares the plan with the
database to tell whether the demo is already there. Each stage draws from its own seeded
generator, so that changing how cadres are drawn does not reshuffle every household.

What the plan holds, in the two counties 通渭县 (621121) and 东乡族自治县 (622926):

- both counties and about 60% of their rural villages marked poor (most of 马营镇 and 达板镇,
  the townships of the two township logins); communities (社区, 居民委员会) are never poor;
- 40 units at four levels with 600 cadres; every poor village is linked by one unit serving its
  county, except a few left unlinked on purpose;
- about 3,000 households, mostly poor and in poor villages, a few ordinary ones in other villages,
  with their members (IDs built from the county code, birth date and a sex-bearing sequence);
- one open responsible pairing per poor household in a linked village, with an active,
  non-exempt cadre of the linking unit, 3 to 7 households each; a few poor households left
  unpaired on purpose; contacts with ordinary households; some history (cadres transferred or
  retired 3 to 9 months ago, adjustments a year ago), ended with a reason and handed on the same day;
- the logins: one per role (with the person's name), a liaison for each demo township's own
  government, and a clerk for every other township with households, who enters its visits.

Dates count back from the day of loading (dates.Calendar), so the plan is the same on every
machine for a given day; people's ages and IDs are on the fixed REFERENCE whatever the day.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import User
from households.choices import (
    POOR_CATEGORIES,
    PROVINCE_CODE,
    Category,
    Disability,
    Education,
    Health,
    HouseholdStatus,
    Housing,
    Labour,
    PovertyCause,
    Relation,
    Schooling,
)
from households.models import Household, Member, Region
from pairing.models import Cadre, Pairing, RankLimit, Unit, VillageLink
from shuanglian.lib import idcard

from . import names
from .dates import Calendar
from .names import weighted
from .units import DABAN, DONGXIANG, LIAISON_UNITS, MAYING, TONGWEI, TOWNSHIP_UNITS, UNITS, UnitSpec, staff_of

Role = User.Role

SEED = 2012  # the year the 双联 campaign began
REFERENCE = datetime.date(2026, 1, 1)  # ages are as of this day; everyone is born before it
PASSWORD = "shuanglian2026"

COUNTIES = (TONGWEI, DONGXIANG)
DEMO_TOWNSHIPS = {TONGWEI: MAYING, DONGXIANG: DABAN}
URBAN_WORDS = ("社区", "居委会", "居民委员会")
POOR_SHARE = 0.6
POOR_SHARE_DEMO_TOWNSHIP = 0.9
# Households in a poor village (东乡 is the poorer county and more densely registered).
PER_POOR_VILLAGE = {TONGWEI: (5, 9), DONGXIANG: (8, 14)}
PER_DEMO_VILLAGE = (10, 15)
POOR_SHARE_OF_HOUSEHOLDS = 0.88  # in a poor village; the rest are ordinary households
ORDINARY_VILLAGE_SHARE = 0.35  # of the non-poor villages, how many have ordinary households here
ETHNICITIES = {
    TONGWEI: (("汉族", 97), ("回族", 3)),
    DONGXIANG: (("东乡族", 84), ("回族", 8), ("汉族", 8)),
}
POOR_MIX = (
    (Category.GENERAL_POOR, 70),
    (Category.DIBAO_POOR, 14),
    (Category.DIBAO, 10),
    (Category.WUBAO, 6),
)
# Limits per rank the two demo county offices set (县级, 科级, 一般): households in all, poor ones, floor.
RANK_LIMITS = {
    Cadre.Rank.COUNTY_LEADER: (10, 7, 2),
    Cadre.Rank.SECTION: (10, 7, 2),
    Cadre.Rank.STAFF: (8, 7, 2),
}
TRANSFERRED = 8  # cadres who left in the last year (调离), their households handed to colleagues
RETIRED = 4
UNLINKED_PER_COUNTY = 3  # poor villages left without a unit, one of them in the demo township
UNPAIRED = 16  # poor households in linked villages left without a responsible cadre
ADJUSTED = 40  # households whose responsible cadre was changed within the unit (调整)
CONTACT_SHARE = 0.6  # of the ordinary households in linked villages


@dataclass(frozen=True)
class Login:
    username: str
    role: str  # accounts.User.Role value, "" for the superuser
    region: str | None = None
    unit: str | None = None  # unit name (of units.UNITS)
    superuser: bool = False
    name: str = ""  # the person, shown in the header and in histories (User.first_name)


# The logins load_demo prints, one per role and scope, each a named person.
LOGINS = (
    Login("admin", "", superuser=True, name="王立新"),
    Login("province", Role.PROVINCE, PROVINCE_CODE, name="张文博"),
    Login("dingxi", Role.CITY, "621100000000", name="李志刚"),
    Login("linxia", Role.CITY, "622900000000", name="马海军"),
    Login("tongwei", Role.COUNTY, TONGWEI + "000000", name="牛建华"),
    Login("dongxiang", Role.COUNTY, DONGXIANG + "000000", name="汪学武"),
    Login("tongwei_town", Role.TOWNSHIP, MAYING, name="常晓燕"),
    Login("dongxiang_town", Role.TOWNSHIP, DABAN, name="马秀兰"),
    Login("tongwei_unit", Role.UNIT, unit=LIAISON_UNITS[TONGWEI], name="李旭东"),
    Login("dongxiang_unit", Role.UNIT, unit=LIAISON_UNITS[DONGXIANG], name="何志清"),
    # The township governments link villages too; their liaisons act for them.
    Login("tongwei_town_unit", Role.UNIT, unit=TOWNSHIP_UNITS[TONGWEI], name="魏亮"),
    Login("dongxiang_town_unit", Role.UNIT, unit=TOWNSHIP_UNITS[DONGXIANG], name="唐海燕"),
)
COUNTY_LOGINS = {TONGWEI: "tongwei", DONGXIANG: "dongxiang"}


def clerk_username(township: str) -> str:
    """The login of the clerk who enters a township's visits: the demo township's own login, else
    the county's login name and the township's three digits (tongwei_100)."""
    for login in LOGINS:
        if login.role == Role.TOWNSHIP and login.region == township:
            return login.username
    return f"{COUNTY_LOGINS[township[:6]]}_{township[6:9]}"


def _clerks(households: list[Household]) -> list[Login]:
    """A township clerk for every township with demo households but no printed login."""
    printed = {login.region for login in LOGINS if login.role == Role.TOWNSHIP}
    townships = sorted({h.village_id[:9] + "000" for h in households} - printed)
    logins = []
    for township in townships:
        # Seeded by the township, so a clerk's name never depends on which other townships have households.
        rng = _rng(f"clerk-{township}")
        ethnicity = weighted(rng, ETHNICITIES[township[:6]])
        name = names.full_name(rng, ethnicity, township[:6], rng.random() < 0.5, rng.randrange(1975, 2000))
        logins.append(Login(clerk_username(township), Role.TOWNSHIP, township, name=name))
    return logins


@dataclass
class Plan:
    villages: int = 0  # all villages (and communities) of the two counties
    poor_regions: list = field(default_factory=list)  # codes of the two counties and their poor villages
    poor_villages: list = field(default_factory=list)
    unlinked_villages: list = field(default_factory=list)
    units: list = field(default_factory=list)
    cadres: list = field(default_factory=list)
    links: list = field(default_factory=list)
    households: list = field(default_factory=list)
    members: list = field(default_factory=list)
    pairings: list = field(default_factory=list)
    rank_limits: list = field(default_factory=list)
    unpaired: list = field(default_factory=list)  # poor households left unpaired on purpose
    clerks: list = field(default_factory=list)  # Login of each other township's clerk

    @property
    def logins(self) -> list[Login]:
        return [*LOGINS, *self.clerks]


def _rng(stage: str) -> random.Random:
    # A string seed is hashed with SHA-512, the same on every run and machine.
    return random.Random(f"shuanglian-demo-{SEED}-{stage}")


def _birth(rng: random.Random, age: int) -> datetime.date:
    """A birth date giving `age` full years on REFERENCE (1 January): born 2 Jan–31 Dec."""
    return datetime.date(REFERENCE.year - 1 - age, 1, 2) + datetime.timedelta(days=rng.randrange(364))


def _age(born: datetime.date) -> int:
    return REFERENCE.year - born.year - ((REFERENCE.month, REFERENCE.day) < (born.month, born.day))


class IdNumbers:
    """Resident IDs unique within the plan: county code, birth date, a sequence whose parity is the sex."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken = set()

    def make(self, county: str, born: datetime.date, male: bool) -> idcard.ResidentId:
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if male else 0)
            number = idcard.make(county, born, sequence)
            if number not in self.taken:
                self.taken.add(number)
                # Parse against the fixed reference date so the plan never depends on today.
                return idcard.parse(number, today=REFERENCE)


def build(villages: list[Region], today: datetime.date) -> Plan:
    """The whole demo for the villages (level=village rows) of the two counties, in code order,
    dated back from `today` (the day of loading)."""
    calendar = Calendar(today)
    plan = Plan(villages=len(villages))
    poor = _choose_poor(villages)
    plan.poor_villages = [v.code for v in poor]
    plan.poor_regions = [county + "000000" for county in COUNTIES] + plan.poor_villages
    phones = set()
    units, cadres_by_unit = _units_and_cadres(phones)
    plan.units = list(units.values())
    plan.cadres = [cadre for cadres in cadres_by_unit.values() for cadre in cadres]
    households_by_village = _households(villages, {v.code for v in poor}, phones, plan)
    eligible = {
        name: [
            c for c in cadres if c.status == Cadre.Status.ACTIVE and c.category not in Cadre.EXEMPT_CATEGORIES
        ]
        for name, cadres in cadres_by_unit.items()
    }
    unit_of_village = _links(poor, households_by_village, eligible, plan)
    plan.links = [
        VillageLink(unit=units[name], village_id=code, started_on=calendar.linked_since)
        for code, name in unit_of_village.items()
    ]
    _pairings(households_by_village, unit_of_village, cadres_by_unit, eligible, plan, calendar)
    plan.clerks = _clerks(plan.households)
    plan.rank_limits = [
        RankLimit(
            county_id=county + "000000", rank=rank, max_households=total, max_poor=poor_, min_poor=floor
        )
        for county in COUNTIES
        for rank, (total, poor_, floor) in RANK_LIMITS.items()
    ]
    return plan


# --- villages -----------------------------------------------------------------------------------


def _is_rural(village: Region) -> bool:
    return not any(word in village.name for word in URBAN_WORDS)


def _choose_poor(villages: list[Region]) -> list[Region]:
    rng = _rng("villages")
    demo = tuple(code[:9] for code in DEMO_TOWNSHIPS.values())
    poor = []
    for village in villages:
        share = POOR_SHARE_DEMO_TOWNSHIP if village.code.startswith(demo) else POOR_SHARE
        if _is_rural(village) and rng.random() < share:
            poor.append(village)
    return poor


# --- units and cadres ---------------------------------------------------------------------------


def _home_county(spec: UnitSpec) -> str:
    if spec.serves:
        return spec.serves
    return DONGXIANG if spec.seat.startswith("6229") else TONGWEI


def _cadre_name(rng: random.Random, spec: UnitSpec) -> str:
    male = rng.random() < 0.68
    year = rng.randrange(1966, 2000)
    if spec.level == Unit.Level.PROVINCE:
        return names.full_name(rng, "汉族", "", male, year)
    county = _home_county(spec)
    ethnicity = weighted(
        rng, (("东乡族", 45), ("回族", 15), ("汉族", 40)) if county == DONGXIANG else (("汉族", 1),)
    )
    return names.full_name(rng, ethnicity, county, male, year)


def _units_and_cadres(phones: set) -> tuple[dict, dict]:
    rng = _rng("cadres")
    units, cadres_by_unit = {}, {}
    for spec in UNITS:
        unit = Unit(name=spec.name, level=spec.level, kind=spec.kind, region_id=spec.seat)
        units[spec.name] = unit
        cadres_by_unit[spec.name] = [
            Cadre(
                unit=unit,
                name=_cadre_name(rng, spec),
                phone=names.mobile(rng, phones),
                post=post,
                rank=rank,
                category=category,
            )
            for post, rank, category in staff_of(rng, spec)
        ]
    # A few pairable cadres of linking units left in the last year; they keep only ended pairings.
    candidates = [
        cadre
        for spec in UNITS
        if spec.serves and spec.name not in LIAISON_UNITS.values()
        for index, cadre in enumerate(cadres_by_unit[spec.name])
        if index >= 3 and cadre.category not in Cadre.EXEMPT_CATEGORIES
    ]
    leaving = rng.sample(candidates, TRANSFERRED + RETIRED)
    for number, cadre in enumerate(leaving):
        cadre.status = Cadre.Status.TRANSFERRED if number < TRANSFERRED else Cadre.Status.RETIRED
    return units, cadres_by_unit


# --- households and members ---------------------------------------------------------------------


def _households(villages: list[Region], poor_codes: set, phones: set, plan: Plan) -> dict:
    """Households per village code, in village order; members go to plan.members."""
    rng = _rng("households")
    ids = IdNumbers(_rng("ids"))
    demo = tuple(code[:9] for code in DEMO_TOWNSHIPS.values())
    by_village = {}
    for village in villages:
        county = village.code[:6]
        if village.code in poor_codes:
            low, high = PER_DEMO_VILLAGE if village.code.startswith(demo) else PER_POOR_VILLAGE[county]
            count = rng.randint(low, high)
            poor_share = POOR_SHARE_OF_HOUSEHOLDS
        elif _is_rural(village) and rng.random() < ORDINARY_VILLAGE_SHARE:
            count = rng.randint(2, 5)
            poor_share = 0.0
        else:
            continue
        groups = rng.randint(3, 10)
        rows = []
        for _ in range(count):
            household, members = _household(
                rng, ids, phones, county, village.code, groups, rng.random() < poor_share
            )
            rows.append(household)
            plan.households.append(household)
            plan.members += members
        by_village[village.code] = rows
    return by_village


class _Family:
    """Builds one household's members, the head first, at most seven."""

    LIMIT = 7

    def __init__(self, rng, ids, county, ethnicity):
        self.rng, self.ids, self.county, self.ethnicity = rng, ids, county, ethnicity
        self.members = []  # (Member, age)

    @property
    def full(self) -> bool:
        return len(self.members) >= self.LIMIT

    def add(self, relation: str, male: bool, age: int, surname: str | None = None) -> Member | None:
        if self.full:
            return None
        rng = self.rng
        born = _birth(rng, age)
        parsed = self.ids.make(self.county, born, male)
        surname = surname or names.surname(rng, self.ethnicity, self.county)
        member = Member(
            name=surname + names.given_name(rng, self.ethnicity, male, born.year),
            relation=relation,
            ethnicity=self.ethnicity,
        )
        member.id_number, member.sex, member.birth_date = parsed.number, parsed.sex, parsed.birth_date
        self.members.append((member, age))
        return member


def _household(rng, ids, phones, county, village_code, groups, poor):
    ethnicity = weighted(rng, ETHNICITIES[county])
    category = weighted(rng, POOR_MIX) if poor else Category.ORDINARY
    family = _Family(rng, ids, county, ethnicity)
    if category == Category.WUBAO:
        # 五保: elderly people with no one to support them, mostly alone.
        head_age = rng.randint(62, 88)
        head = family.add(Relation.HEAD, rng.random() < 0.75, head_age)
        if rng.random() < 0.15:
            family.add(
                Relation.SIBLING, rng.random() < 0.5, max(60, head_age + rng.randint(-6, 6)), head.name[0]
            )
    else:
        _ordinary_family(rng, family)
    head = family.members[0][0]
    for member, age in family.members:
        _fill_person(rng, member, age, poor)
    household = Household(
        village_id=village_code,
        group=f"{rng.randint(1, groups)}社",
        head_name=head.name,
        head_id_number=head.id_number,
        category=category,
        housing=weighted(rng, _HOUSING_POOR if poor else _HOUSING_ORDINARY),
        phone=names.mobile(rng, phones),
    )
    if poor:
        household.main_cause, household.other_causes = _causes(rng, family, category)
        lifted = category != Category.WUBAO and rng.random() < 0.05
        household.status = HouseholdStatus.LIFTED if lifted else HouseholdStatus.REGISTERED
        low, high = (420, 750) if lifted else _INCOME[category]
    else:
        household.main_cause, household.other_causes = "", []
        household.status = HouseholdStatus.REGISTERED
        low, high = 500, 1200
    household.income_per_head = Decimal(rng.randrange(low, high) * 10)
    members = [member for member, _age in family.members]
    for member in members:
        member.household = household
    return household, members


_HOUSING_POOR = ((Housing.SAFE, 76), (Housing.C_GRADE, 12), (Housing.D_GRADE, 9), (Housing.NONE, 3))
_HOUSING_ORDINARY = ((Housing.SAFE, 95), (Housing.C_GRADE, 5))
# Income per head in tens of yuan, by category.
_INCOME = {
    Category.GENERAL_POOR: (200, 450),
    Category.DIBAO_POOR: (150, 380),
    Category.DIBAO: (150, 380),
    Category.WUBAO: (150, 300),
}


def _ordinary_family(rng, family: _Family) -> None:
    """Head, spouse, children (sons may bring a wife and grandchildren), then parents if room."""
    head_male = rng.random() < 0.88
    head_age = rng.randint(28, 76)
    head = family.add(Relation.HEAD, head_male, head_age)
    surname = head.name[0]
    mother_age = head_age
    if head_male:
        if rng.random() < 0.9:
            mother_age = max(20, head_age - rng.randint(0, 5))
            family.add(Relation.SPOUSE, False, mother_age)
        else:
            mother_age = head_age - 3
    else:
        # A woman heads the household when widowed or when her husband is registered elsewhere.
        if rng.random() < 0.2:
            husband = family.add(Relation.SPOUSE, True, head_age + rng.randint(0, 4))
            surname = husband.name[0]
        else:
            surname = names.surname(rng, family.ethnicity, family.county)
    children = rng.choices((0, 1, 2, 3, 4), weights=(8, 24, 40, 22, 6))[0]
    married_son = None
    for _ in range(children):
        age = mother_age - rng.randint(20, 36)
        male = rng.random() < 0.52
        if age < 0:
            continue
        if age >= 24 and not male and rng.random() < 0.85:
            continue  # married out
        if age >= 32 and male and rng.random() < 0.4:
            continue  # has a household of his own
        child = family.add(Relation.SON if male else Relation.DAUGHTER, male, age, surname)
        if child and male and age >= 22 and married_son is None:
            married_son = (child, age)
    if married_son and rng.random() < 0.7:
        son, son_age = married_son
        wife_age = max(20, son_age - rng.randint(0, 4))
        if family.add(Relation.DAUGHTER_IN_LAW, False, wife_age):
            for _ in range(rng.choices((0, 1, 2), weights=(20, 40, 40))[0]):
                age = wife_age - rng.randint(20, 32)
                if age >= 0:
                    male = rng.random() < 0.52
                    family.add(Relation.GRANDSON if male else Relation.GRANDDAUGHTER, male, age, son.name[0])
    if head_age <= 52 and rng.random() < 0.35:
        for relation, male, chance in ((Relation.FATHER, True, 0.55), (Relation.MOTHER, False, 0.85)):
            age = head_age + rng.randint(22, 32)
            if rng.random() < chance and age <= 92:
                # The head's father shares the head's surname; the mother keeps her own.
                family.add(relation, male, age, head.name[0] if male else None)


_IN_SCHOOL = (
    Schooling.PRESCHOOL,
    Schooling.PRIMARY,
    Schooling.JUNIOR,
    Schooling.SENIOR,
    Schooling.VOCATIONAL,
    Schooling.HIGHER_VOCATIONAL,
    Schooling.UNIVERSITY,
)
_DISABILITIES = (
    (Disability.PHYSICAL, 40),
    (Disability.VISION, 15),
    (Disability.HEARING, 12),
    (Disability.INTELLECTUAL, 10),
    (Disability.MENTAL, 8),
    (Disability.SPEECH, 5),
    (Disability.MULTIPLE, 10),
)


def _adult_education(rng, birth_year: int) -> str:
    if birth_year < 1961:
        mix = ((Education.ILLITERATE, 55), (Education.PRIMARY, 35), (Education.JUNIOR, 10))
    elif birth_year < 1976:
        mix = (
            (Education.ILLITERATE, 20),
            (Education.PRIMARY, 45),
            (Education.JUNIOR, 30),
            (Education.SENIOR, 5),
        )
    elif birth_year < 1991:
        mix = (
            (Education.PRIMARY, 30),
            (Education.JUNIOR, 50),
            (Education.SENIOR, 15),
            (Education.COLLEGE, 5),
        )
    else:
        mix = ((Education.JUNIOR, 45), (Education.SENIOR, 30), (Education.COLLEGE, 25))
    return weighted(rng, mix)


def _schooling(rng, age: int, birth_year: int) -> tuple[str, str]:
    """(schooling, education) for a person of `age` on the reference date."""
    roll = rng.random()
    if age < 3:
        return Schooling.NOT_ENROLLED, Education.PRESCHOOL
    if age < 6:
        return (Schooling.PRESCHOOL if roll < 0.85 else Schooling.NOT_ENROLLED), Education.PRESCHOOL
    if age < 12:
        return (Schooling.DROPPED_OUT if roll < 0.01 else Schooling.PRIMARY), Education.PRIMARY
    if age < 15:
        if roll < 0.02:
            return Schooling.DROPPED_OUT, Education.PRIMARY
        return Schooling.JUNIOR, Education.JUNIOR
    if age < 18:
        if roll < 0.6:
            return Schooling.SENIOR, Education.SENIOR
        if roll < 0.9:
            return Schooling.VOCATIONAL, Education.SENIOR
        if roll < 0.94:
            return Schooling.DROPPED_OUT, Education.JUNIOR
        return Schooling.NOT_ENROLLED, Education.JUNIOR
    if age < 22:
        if roll < 0.2:
            return Schooling.UNIVERSITY, Education.COLLEGE
        if roll < 0.4:
            return Schooling.HIGHER_VOCATIONAL, Education.COLLEGE
    return Schooling.NOT_ENROLLED, _adult_education(rng, birth_year)


def _health(rng, age: int, poor: bool) -> str:
    chronic, serious, disabled = (
        (0.01, 0.005, 0.01) if age < 16 else (0.06, 0.025, 0.03) if age < 60 else (0.28, 0.07, 0.07)
    )
    factor = 1.4 if poor else 0.6
    roll = rng.random() / factor
    if roll < chronic:
        return Health.CHRONIC
    if roll < chronic + serious:
        return Health.SERIOUS
    if roll < chronic + serious + disabled:
        return Health.DISABLED
    return Health.HEALTHY


def _labour(rng, age: int, health: str, schooling: str) -> str:
    if age < 16 or schooling in _IN_SCHOOL:
        return Labour.NONE
    if health in (Health.SERIOUS, Health.DISABLED):
        return Labour.LOST if rng.random() < 0.75 else Labour.ORDINARY
    if age >= 65:
        return weighted(rng, ((Labour.LOST, 50), (Labour.NONE, 20), (Labour.ORDINARY, 30)))
    if health == Health.CHRONIC:
        return Labour.LOST if rng.random() < 0.4 else Labour.ORDINARY
    return Labour.SKILLED if rng.random() < (0.3 if age < 45 else 0.1) else Labour.ORDINARY


def _fill_person(rng, member: Member, age: int, poor: bool) -> None:
    member.schooling, member.education = _schooling(rng, age, member.birth_date.year)
    member.health = _health(rng, age, poor)
    member.disability = weighted(rng, _DISABILITIES) if member.health == Health.DISABLED else ""
    member.labour = _labour(rng, age, member.health, member.schooling)
    # A few without medical insurance, so the 三不 alerts have something to show.
    member.has_medical_insurance = rng.random() > 0.012
    working_age = age >= 16 and member.schooling not in _IN_SCHOOL
    member.has_pension_insurance = working_age and rng.random() < (0.85 if age >= 60 else 0.6)


def _causes(rng, family: _Family, category: str) -> tuple[str, list]:
    """The main and other causes of poverty, weighted by what the members' rows show."""
    members = [member for member, _age in family.members]
    ill = any(m.health in (Health.CHRONIC, Health.SERIOUS) for m in members)
    disabled = any(m.health == Health.DISABLED for m in members)
    studying = any(
        m.schooling
        in (Schooling.SENIOR, Schooling.VOCATIONAL, Schooling.HIGHER_VOCATIONAL, Schooling.UNIVERSITY)
        for m in members
    )
    workers = sum(1 for m in members if m.labour in (Labour.ORDINARY, Labour.SKILLED))
    weights = {
        PovertyCause.ILLNESS: 6 if ill else 0.3,
        PovertyCause.DISABILITY: 6 if disabled else 0.1,
        PovertyCause.SCHOOLING: 4 if studying else 0,
        PovertyCause.DISASTER: 0.8,
        PovertyCause.NO_LAND: 0.4,
        PovertyCause.NO_WATER: 1.5 if family.county == TONGWEI else 1,
        PovertyCause.NO_SKILLS: 3,
        PovertyCause.NO_LABOUR: 5 if workers == 0 else 1 if workers == 1 else 0.3,
        PovertyCause.NO_CAPITAL: 3,
        PovertyCause.POOR_TRANSPORT: 1,
        PovertyCause.NO_DRIVE: 0.6,
    }
    if category == Category.WUBAO:
        weights[PovertyCause.NO_LABOUR] = 20
    pool = [(cause, weight) for cause, weight in weights.items() if weight > 0]
    main = weighted(rng, pool)
    others = []
    for _ in range(rng.choices((0, 1, 2), weights=(35, 45, 20))[0]):
        rest = [(cause, weight) for cause, weight in pool if cause != main and cause not in others]
        others.append(weighted(rng, rest))
    return main, [str(cause) for cause in others]


# --- village links ------------------------------------------------------------------------------


def _links(poor: list[Region], households_by_village: dict, eligible: dict, plan: Plan) -> dict:
    """One linking unit per poor village (village code -> unit name), a few villages left out.

    Each unit takes a share of its county's poor households in proportion to its pairable
    cadres, in runs of neighbouring villages. The two liaison units and the township governments
    take villages of their own (or the demo) township first, so every login has data to see.
    """
    rng = _rng("links")
    result = {}
    for county in COUNTIES:
        demo_township = DEMO_TOWNSHIPS[county][:9]
        villages = [v.code for v in poor if v.code.startswith(county)]
        in_demo = [code for code in villages if code.startswith(demo_township)]
        others = [code for code in villages if not code.startswith(demo_township)]
        left_out = sorted(rng.sample(in_demo, 1) + rng.sample(others, UNLINKED_PER_COUNTY - 1))
        plan.unlinked_villages += left_out
        villages = [code for code in villages if code not in left_out]
        load = {
            code: sum(1 for h in households_by_village.get(code, ()) if h.category in POOR_CATEGORIES)
            for code in villages
        }
        serving = [spec for spec in UNITS if spec.serves == county and eligible[spec.name]]
        ratio = sum(load.values()) / sum(len(eligible[spec.name]) for spec in serving)
        target = {spec.name: len(eligible[spec.name]) * ratio for spec in serving}
        taken = {spec.name: 0 for spec in serving}

        def fits(name, code):
            return taken[name] + load[code] <= target[name] + load[code] / 2

        def assign(name, code):
            result[code] = name
            taken[name] += load[code]

        # A township government links villages of its own township only; in the demo township
        # every third village is kept for the liaison unit, so both logins have villages to see.
        liaison = LIAISON_UNITS[county]
        reserved = [code for code in villages if code.startswith(demo_township)][1::3]
        townships = [spec for spec in serving if spec.level == Unit.Level.TOWNSHIP]
        for spec in townships:
            for code in villages:
                if code.startswith(spec.seat[:9]) and code not in reserved and fits(spec.name, code):
                    assign(spec.name, code)
        for code in reserved:
            if fits(liaison, code):
                assign(liaison, code)
        # The rest in code order, filling one unit after another, so that a unit's villages lie
        # in one or two townships.
        queue = [spec.name for spec in serving if spec not in townships]
        position = 0
        for code in villages:
            if code in result:
                continue
            while position < len(queue) and not fits(queue[position], code):
                position += 1
            if position < len(queue):
                assign(queue[position], code)
            else:
                name = min(queue, key=lambda n: ((taken[n] + load[code]) / len(eligible[n]), queue.index(n)))
                assign(name, code)
    return dict(sorted(result.items()))


# --- pairings -----------------------------------------------------------------------------------


def _pairings(
    households_by_village, unit_of_village, cadres_by_unit, eligible, plan: Plan, calendar: Calendar
) -> None:
    rng = _rng("pairings")
    linked_since, adjusted_on = calendar.linked_since, calendar.adjusted_on
    # Poor households of each linking unit, in village and group order.
    poor_by_unit = {name: [] for name in cadres_by_unit}
    contacts_by_unit = {name: [] for name in cadres_by_unit}
    for code, name in unit_of_village.items():
        for household in households_by_village.get(code, ()):
            if household.category in POOR_CATEGORIES:
                poor_by_unit[name].append(household)
            else:
                contacts_by_unit[name].append(household)
    linked_poor = [h for households in poor_by_unit.values() for h in households]
    demo = [
        [h for h in linked_poor if h.village_id.startswith(township[:9])]
        for township in DEMO_TOWNSHIPS.values()
    ]
    rest = [
        h for h in linked_poor if not h.village_id.startswith(tuple(t[:9] for t in DEMO_TOWNSHIPS.values()))
    ]
    unpaired = [rng.choice(households) for households in demo] + rng.sample(rest, UNPAIRED - len(demo))
    plan.unpaired = unpaired
    unpaired_ids = {id(h) for h in unpaired}

    current = {}  # id(household) -> open responsible Pairing
    load = {}  # id(cadre) -> open pairings of any role
    for name, households in poor_by_unit.items():
        households = [h for h in households if id(h) not in unpaired_ids]
        cadres = eligible[name]
        if not households:
            continue
        # Contiguous blocks, so a cadre's households lie in one or two villages.
        for index, household in enumerate(households):
            cadre = cadres[index * len(cadres) // len(households)]
            current[id(household)] = Pairing(
                cadre=cadre, household=household, role=Pairing.Role.RESPONSIBLE, started_on=linked_since
            )
            load[id(cadre)] = load.get(id(cadre), 0) + 1
    history = []
    handled = set()
    # Cadres who left in the last year: their households went to the colleague now responsible.
    for name, cadres in cadres_by_unit.items():
        for leaver in cadres:
            if leaver.status == Cadre.Status.ACTIVE:
                continue
            candidates = [h for h in poor_by_unit[name] if id(h) in current and id(h) not in handled]
            if not candidates:
                continue
            start = rng.randrange(len(candidates))
            count = min(rng.randint(3, 5), len(candidates))
            ended_on = rng.choice(calendar.handover_days())
            reason = (
                Pairing.EndReason.TRANSFER
                if leaver.status == Cadre.Status.TRANSFERRED
                else Pairing.EndReason.RETIREMENT
            )
            for household in (candidates[(start + step) % len(candidates)] for step in range(count)):
                handled.add(id(household))
                history.append(
                    Pairing(
                        cadre=leaver,
                        household=household,
                        role=Pairing.Role.RESPONSIBLE,
                        started_on=linked_since,
                        ended_on=ended_on,
                        end_reason=reason,
                    )
                )
                current[id(household)].started_on = ended_on
    # Adjustments a year ago within the unit.
    paired = [h for h in linked_poor if id(h) in current and id(h) not in handled]
    for household in rng.sample(paired, ADJUSTED):
        successor = current[id(household)].cadre
        colleagues = [c for c in eligible[unit_of_village[household.village_id]] if c is not successor]
        if not colleagues:
            continue
        history.append(
            Pairing(
                cadre=rng.choice(colleagues),
                household=household,
                role=Pairing.Role.RESPONSIBLE,
                started_on=linked_since,
                ended_on=adjusted_on,
                end_reason=Pairing.EndReason.ADJUSTMENT,
            )
        )
        current[id(household)].started_on = adjusted_on
    # Contacts: ordinary households in linked villages, with the least loaded cadre of the unit.
    contacts = []
    limit = {rank: total for rank, (total, _poor, _floor) in RANK_LIMITS.items()}
    for name, households in contacts_by_unit.items():
        for household in households:
            if rng.random() >= CONTACT_SHARE:
                continue
            free = [c for c in eligible[name] if load.get(id(c), 0) < limit[c.rank]]
            if not free:
                continue
            cadre = min(free, key=lambda c: load.get(id(c), 0))
            load[id(cadre)] = load.get(id(cadre), 0) + 1
            contacts.append(
                Pairing(cadre=cadre, household=household, role=Pairing.Role.CONTACT, started_on=linked_since)
            )
    order = {id(h): index for index, h in enumerate(plan.households)}
    plan.pairings = sorted(
        history + list(current.values()) + contacts,
        key=lambda p: (order[id(p.household)], p.started_on, p.role),
    )
