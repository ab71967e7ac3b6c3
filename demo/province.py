"""Province-scale synthetic data for benchmarks: the real region tree, invented people.

Deterministic for a given seed and scale. 58 rural counties are flagged poor and
8,790 of their villages (at scale 1.0) poor; units link the poor villages of
their area, every unit at least one; households live in poor villages and each
poor household is paired with a cadre of a unit linking its village.
"""

import datetime
import random
from dataclasses import dataclass

from django.db import connection, transaction

from households.choices import PROVINCE_CODE, Category, PovertyCause
from households.models import Household, Region
from pairing import tallies as pairing_tallies
from pairing.models import Cadre, Pairing, Unit, VillageLink
from shuanglian.lib import idcard
from visits import tallies
from visits.models import UnitVisit, Visit

BATCH = 5000
START = datetime.date(2024, 3, 1)
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "建国明华伟强军平文红志刚玉兰海燕秀英德福有才春生学忠永胜桂花金山宝霞俊杰晓东"


@dataclass(frozen=True)
class Scale:
    households: int = 400_000
    cadres: int = 400_000
    units: int = 15_000
    poor_villages: int = 8_790
    poor_counties: int = 58

    def times(self, factor: float) -> "Scale":
        return Scale(
            *(
                max(1, round(value * factor))
                for value in (
                    self.households,
                    self.cadres,
                    self.units,
                    self.poor_villages,
                    self.poor_counties,
                )
            )
        )


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _rural(region: Region) -> bool:
    return not any(word in region.name for word in ("社区", "居委会", "居民委员会", "区"))


@transaction.atomic
def generate(scale: Scale, *, seed: int = 2012, log=print) -> dict:
    rng = random.Random(seed)
    counties = [
        c for c in Region.objects.filter(level="county").order_by("code") if not c.name.endswith("区")
    ]
    poor_counties = sorted(
        rng.sample(counties, min(scale.poor_counties, len(counties))), key=lambda c: c.code
    )
    Region.objects.filter(code__in=[c.code for c in poor_counties]).update(is_poor=True)
    candidates = [
        v
        for v in Region.objects.villages().order_by("code")
        if v.code[:6] in {c.code[:6] for c in poor_counties} and _rural(v)
    ]
    poor_villages = sorted(
        rng.sample(candidates, min(scale.poor_villages, len(candidates))), key=lambda v: v.code
    )
    Region.objects.filter(code__in=[v.code for v in poor_villages]).update(is_poor=True)
    log(f"贫困县 {len(poor_counties)}，贫困村 {len(poor_villages)}")

    units = _units(rng, scale, poor_counties)
    log(f"单位 {len(units)}")
    links = _links(rng, units, poor_villages)
    log(f"联村 {len(links)}")
    cadres = _cadres(rng, scale, units)
    log(f"干部 {len(cadres)}")
    households = _households(rng, scale, poor_villages)
    log(f"农户 {len(households)}")
    pairings = _pairings(households, links, cadres)
    log(f"联户 {pairings}")
    visits = generate_visits(log=log)
    reports = generate_monthly_reports(log=log)
    return {
        "units": len(units),
        "cadres": len(cadres),
        "households": len(households),
        "pairings": pairings,
        "visits": visits,
        "reports": reports,
    }


REPORT_MONTH = datetime.date(2025, 11, 1)  # the generated year's last month of visits but one


def generate_monthly_reports(*, month: datetime.date = REPORT_MONTH, log=print) -> int:
    """November's monthly reports (月报告) of every township, unit and county office, at every
    status by turns (a fifth missing), for the status boards: rows only, in bulk; no figures
    frozen, no month locked (approval through reports.services does both)."""
    from accounts.models import User
    from reports.models import MonthlyReport

    clerk = User.objects.get(username="province_generator")
    statuses = [None, *MonthlyReport.Status.values]  # None: not started
    offices = [
        ("region", code)
        for code in Region.objects.filter(level__in=("township", "county"))
        .values_list("code", flat=True)
        .order_by("code")
    ]
    offices += [("unit", pk) for pk in Unit.objects.order_by("pk").values_list("pk", flat=True)]
    reports = [
        MonthlyReport(
            month=month, status=statuses[index % len(statuses)], created_by=clerk, **{f"{kind}_id": key}
        )
        for index, (kind, key) in enumerate(offices)
        if statuses[index % len(statuses)] is not None
    ]
    MonthlyReport.objects.bulk_create(reports, batch_size=5000)
    log(f"月报告 {len(reports)}")
    return len(reports)


def _units(rng, scale, poor_counties):
    # A tenth at province level, a tenth at city level, the rest in the poor counties and their townships.
    province = Region.objects.get(code=PROVINCE_CODE)
    cities = list(Region.objects.filter(level="city").order_by("code"))
    townships = list(
        Region.objects.filter(
            level="township", code__regex=r"^(%s)" % "|".join(c.code[:6] for c in poor_counties)
        ).order_by("code")
    )
    units = []
    for index in range(scale.units):
        bucket = index % 10
        if bucket == 0:
            seat, level = province, Unit.Level.PROVINCE
        elif bucket == 1:
            seat, level = cities[index % len(cities)], Unit.Level.CITY
        elif bucket < 6:
            seat, level = poor_counties[index % len(poor_counties)], Unit.Level.COUNTY
        else:
            seat, level = townships[index % len(townships)], Unit.Level.TOWNSHIP
        units.append(
            Unit(
                name=f"{seat.name}第{index + 1}单位",
                level=level,
                kind=Unit.Kind.PARTY_GOVERNMENT,
                region=seat,
            )
        )
    return Unit.objects.bulk_create(units, batch_size=BATCH)


def _links(rng, units, poor_villages):
    """Every poor village gets a unit; every unit links a village of its area where it can."""
    by_prefix = {}
    for village in poor_villages:
        for digits in (2, 4, 6, 9):
            by_prefix.setdefault(village.code[:digits], []).append(village)
    links = {}
    for index, village in enumerate(poor_villages):
        unit = units[index % len(units)]
        links[(unit.pk, village.code)] = VillageLink(unit=unit, village=village, started_on=START)
    for unit in units:
        area = by_prefix.get(unit.region.prefix) or poor_villages
        village = area[unit.pk % len(area)]
        links.setdefault((unit.pk, village.code), VillageLink(unit=unit, village=village, started_on=START))
    return VillageLink.objects.bulk_create(list(links.values()), batch_size=BATCH)


def _cadres(rng, scale, units):
    categories = [Cadre.Category.CIVIL_SERVANT] * 6 + [
        Cadre.Category.REFERENCE,
        Cadre.Category.INSTITUTION,
        Cadre.Category.TEACHER,
        Cadre.Category.MEDICAL,
    ]
    cadres = []
    for index in range(scale.cadres):
        roll = rng.random()
        rank = (
            Cadre.Rank.COUNTY_LEADER
            if roll < 0.02
            else Cadre.Rank.SECTION
            if roll < 0.22
            else Cadre.Rank.STAFF
        )
        cadres.append(
            Cadre(
                unit=units[index % len(units)],
                name=_name(rng),
                phone=f"13{rng.randrange(10**9):09d}",
                rank=rank,
                category=categories[index % len(categories)],
            )
        )
    return Cadre.objects.bulk_create(cadres, batch_size=BATCH)


def _households(rng, scale, poor_villages):
    poor_categories = [Category.GENERAL_POOR] * 6 + [Category.DIBAO, Category.DIBAO_POOR, Category.WUBAO]
    causes = list(PovertyCause.values)
    households = []
    per_county = {}
    for index in range(scale.households):
        village = poor_villages[index % len(poor_villages)]
        county = village.code[:6]
        serial = per_county.get(county, 0)
        per_county[county] = serial + 1
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=serial // 500)
        category = Category.ORDINARY if index % 10 == 9 else poor_categories[index % len(poor_categories)]
        households.append(
            Household(
                village=village,
                group=f"{index % 9 + 1}社",
                head_name=_name(rng),
                head_id_number=idcard.make(county, born, (serial % 500) * 2 + 1),
                category=category,
                main_cause="" if category == Category.ORDINARY else causes[index % len(causes)],
                income_per_head=rng.randrange(1500, 6000),
            )
        )
    return Household.objects.bulk_create(households, batch_size=BATCH)


def _pairings(households, links, cadres) -> int:
    """Round-robin over the eligible cadres of the units linking each village, within the default limits."""
    units_by_village = {}
    for link in links:
        units_by_village.setdefault(link.village_id, []).append(link.unit_id)
    cadres_by_unit = {}
    for cadre in cadres:
        if cadre.category not in Cadre.EXEMPT_CATEGORIES:
            cadres_by_unit.setdefault(cadre.unit_id, []).append(cadre)
    limits = {Cadre.Rank.COUNTY_LEADER: 5, Cadre.Rank.SECTION: 3, Cadre.Rank.STAFF: 2}
    load = {}
    cursor = {}
    rows = []
    for household in households:
        if household.category == Category.ORDINARY:
            continue
        pool = [
            c for unit in units_by_village.get(household.village_id, []) for c in cadres_by_unit.get(unit, [])
        ]
        start = cursor.get(household.village_id, 0)
        for step in range(len(pool)):
            cadre = pool[(start + step) % len(pool)]
            if load.get(cadre.pk, 0) < limits[cadre.rank]:
                load[cadre.pk] = load.get(cadre.pk, 0) + 1
                cursor[household.village_id] = start + step + 1
                rows.append(Pairing(cadre=cadre, household=household, started_on=START))
                break
        if len(rows) >= BATCH:
            Pairing.objects.bulk_create(rows)
            rows = []
    Pairing.objects.bulk_create(rows)
    pairing_tallies.rebuild()  # bulk_create bypassed the services: the cadres' loads, counted in one pass
    return sum(load.values())


VISIT_YEAR = 2025


def _escaped(text: str) -> str:
    """The driver reads % as a placeholder: double the modulo signs, keep the %s parameters."""
    return text.replace("%", "%%").replace("%%s", "%s")


def _date_sql(month: str, day: str) -> str:
    if connection.vendor == "postgresql":
        return f"make_date({VISIT_YEAR}, ({month})::int, ({day})::int)"
    return f"printf('%04d-%02d-%02d', {VISIT_YEAR}, {month}, {day})"


@transaction.atomic
def generate_visits(*, log=print) -> int:
    """A year of visits, one per open pairing per month, and the units' visits to their linked villages.

    Written by INSERT ... SELECT in the database (a few minutes for ~4 million rows on PostgreSQL): the
    months come from a recursive CTE (PostgreSQL and SQLite both have one). A tenth of the pairings
    stop after September (not visited in 90 days by 31 December) and a tenth have only three visits
    (behind the quota); a third also get a monthly text message (generate_contacts_away), ~4.9 million
    rows in all; a fifth of the village links have three unit visits, the rest eight.
    """
    from accounts.models import User

    sql = _escaped
    clerk, _ = User.objects.get_or_create(username="province_generator", defaults={"is_active": False})
    months = "WITH RECURSIVE months(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM months WHERE m < 12) "
    tasks = ", ".join(Visit.TASK_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            sql(
                f"INSERT INTO {Visit._meta.db_table} (household_id, cadre_id, visited_on, mode, {tasks},"
                " diary, help_cash, help_goods, help_goods_value, help_project, next_steps, recorded_by_id,"
                " recorded_at) "
                + months
                + f"SELECT p.household_id, p.cadre_id, {_date_sql('m', '1 + (p.id * 7 + m * 13) % 28')}, "
                "CASE WHEN (p.id + m) % 10 = 0 THEN '电话' WHEN (p.id + m) % 10 = 5 THEN '联系卡' "
                "ELSE '入户走访' END, "
                "(p.id + m) % 2 = 0, (p.id + m) % 3 = 0, (p.id + m) % 4 = 1, (p.id + m) % 5 = 2, "
                "(p.id + m) % 6 = 3, "
                "(p.id + m) % 7 = 4, '了解家庭生产生活情况', 0, '', 0, '', '', %s, CURRENT_TIMESTAMP "
                f"FROM {Pairing._meta.db_table} p CROSS JOIN months "
                "WHERE p.ended_on IS NULL AND NOT (p.id % 10 = 3 AND m > 9) "
                "AND NOT (p.id % 10 = 7 AND m % 4 <> 0)"
            ),
            [clerk.pk],
        )
        visits = cursor.rowcount
        log(f"走访 {visits}")
    visits += generate_contacts_away(clerk=clerk, log=log)
    with connection.cursor() as cursor:
        cursor.execute(
            sql(
                f"INSERT INTO {UnitVisit._meta.db_table} (unit_id, village_id, visited_on, activities,"
                " recorded_by_id, recorded_at) "
                + months
                + f"SELECT l.unit_id, l.village_id, {_date_sql('m', '1 + (l.id + m) % 28')}, '驻村走访', "
                "%s, CURRENT_TIMESTAMP "
                f"FROM {VillageLink._meta.db_table} l CROSS JOIN months WHERE l.ended_on IS NULL "
                "AND ((l.id % 5 = 0 AND m IN (1, 5, 9)) OR (l.id % 5 <> 0 AND m % 3 <> 0))"
            ),
            [clerk.pk],
        )
        unit_visits = cursor.rowcount
        through = UnitVisit.cadres.through._meta.db_table
        cursor.execute(
            f"INSERT INTO {through} (unitvisit_id, cadre_id) SELECT v.id, c.id "
            f"FROM {UnitVisit._meta.db_table} v "
            f"JOIN (SELECT unit_id, MIN(id) AS id FROM {Cadre._meta.db_table} GROUP BY unit_id) c "
            "ON c.unit_id = v.unit_id"
        )
        log(f"联村走访 {unit_visits}")
    written = tallies.rebuild()  # the worklists' figures, recounted in one pass per table
    log(f"走访汇总 {written}")
    return visits


def generate_contacts_away(*, clerk=None, log=print) -> int:
    """A text message (短信) each month to the households of a third of the pairings, whose members
    work away (外出务工): with the visits, about 5 million rows a year at scale 1.0, as the design
    expects. Same months as the visits (none after September for the "stale" tenth), another day."""
    from accounts.models import User

    clerk = clerk or User.objects.get(username="province_generator")
    tasks = ", ".join(Visit.TASK_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            _escaped(
                f"INSERT INTO {Visit._meta.db_table} (household_id, cadre_id, visited_on, mode, {tasks},"
                " diary, help_cash, help_goods, help_goods_value, help_project, next_steps, recorded_by_id,"
                " recorded_at) "
                "WITH RECURSIVE months(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM months WHERE m < 12) "
                f"SELECT p.household_id, p.cadre_id, {_date_sql('m', '1 + (p.id * 3 + m * 7) % 28')}, "
                "'短信', true, false, false, true, false, false, '短信了解外出务工情况', 0, '', 0, '', '', "
                "%s, CURRENT_TIMESTAMP "
                f"FROM {Pairing._meta.db_table} p CROSS JOIN months "
                "WHERE p.ended_on IS NULL AND p.id % 3 = 0 AND NOT (p.id % 10 = 3 AND m > 9) "
                "AND NOT (p.id % 10 = 7 AND m % 4 <> 0)"
            ),
            [clerk.pk],
        )
        contacts = cursor.rowcount
    log(f"外出务工户短信联系 {contacts}")
    return contacts
