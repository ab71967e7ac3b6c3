"""A year (2025) of visits for the demo pairings, and the units' visits to their linked villages.

Deterministic: the pairings are read in a fixed order (household ID, start date) and every choice
comes from one seeded generator, so the same rows are written on every machine. Idempotent: nothing
is written when the demo counties already have visits. Written with bulk_create in one transaction.

The mix gives every worklist something to show as of 31 December 2025 (the demo's reference date
less a day): most households are visited about monthly; some are behind the quota (2 visits); some
were last visited in September (not visited in 90 days); some working-away households are mostly
reached by phone or contact card.
"""

import datetime
import random

from django.db import connection, transaction
from django.db.models import Q

from accounts.models import User
from pairing.models import Cadre, Pairing, VillageLink
from visits import tallies
from visits.models import UnitVisit, Visit

from .build import COUNTIES, DEMO_TOWNSHIPS, SEED

YEAR = 2025
BATCH = 2000
DIARIES = (
    "了解春耕备耕情况，宣讲到户补贴政策。",
    "查看新建羊圈，商量扩大养殖的资金来源。",
    "户主反映村道雨天泥泞，已记下并向村委会转达。",
    "孩子上学情况良好，讲解了雨露计划。",
    "老人慢性病需长期用药，核对了新农合报销。",
    "协调农技员指导马铃薯种植。",
    "家中有人外出务工，电话了解务工收入和家里困难。",
    "帮助联系合作社收购中药材。",
)
VILLAGE_WORK = (
    "召开村两委会，研究村级发展规划。",
    "调研主导产业，走访合作社和种养大户。",
    "协调修通村道路，察看施工进度。",
    "组织政策宣讲会，解答群众疑问。",
    "慰问困难群众，送去米面油。",
)


def _in_counties(field: str) -> Q:
    q = Q()
    for county in COUNTIES:
        q |= Q(**{f"{field}__startswith": county})
    return q


def _days_in_force(relation, first: datetime.date, last: datetime.date):
    start = max(first, relation.started_on)
    end = min(last, relation.ended_on - datetime.timedelta(days=1)) if relation.ended_on else last
    return start, end


def _household_visits(rng, pairing, clerk) -> list[Visit]:
    habit = rng.random()
    phone_first = rng.random() < 0.12  # working away: reached by phone or contact card
    months = list(range(1, 13))
    if habit < 0.12:
        months = sorted(rng.sample(months, 2))  # behind the quota
    elif habit < 0.22:
        months = list(range(1, 10))  # nothing since September: not visited in 90 days
    elif habit < 0.30:
        months = [2, 5, 8, 11]  # just the quota
    first, last = _days_in_force(pairing, datetime.date(YEAR, 1, 1), datetime.date(YEAR, 12, 31))
    visits = []
    for month in months:
        day = datetime.date(YEAR, month, rng.randrange(1, 29))
        if not first <= day <= last:
            continue
        if phone_first:
            mode = rng.choice((Visit.Mode.PHONE, Visit.Mode.PHONE, Visit.Mode.CONTACT_CARD, Visit.Mode.HOME))
        else:
            mode = rng.choice((Visit.Mode.HOME,) * 8 + (Visit.Mode.PHONE, Visit.Mode.MEETING))
        tasks = rng.sample(Visit.TASK_FIELDS, rng.randrange(1, 4))
        cash = rng.choice((0,) * 9 + (200,))
        visits.append(Visit(
            household_id=pairing.household_id, cadre_id=pairing.cadre_id, visited_on=day, mode=mode,
            diary=rng.choice(DIARIES), help_cash=cash, recorded_by=clerk, **{task: True for task in tasks},
        ))
    return visits


def _unit_visits(rng, link, cadres, clerk) -> list[tuple[UnitVisit, list[int]]]:
    first, last = _days_in_force(link, datetime.date(YEAR, 1, 1), datetime.date(YEAR, 12, 31))
    if first > last or not cadres:
        return []
    span = (last - first).days + 1
    days = sorted({first + datetime.timedelta(days=rng.randrange(span)) for _ in range(rng.choice((3, 5, 7, 8, 9)))})
    return [
        (UnitVisit(unit_id=link.unit_id, village_id=link.village_id, visited_on=day,
                   activities=rng.choice(VILLAGE_WORK), recorded_by=clerk),
         rng.sample(cadres, min(len(cadres), rng.randrange(1, 4))))
        for day in days
    ]


@transaction.atomic
def load(say=print) -> None:
    if Visit.objects.filter(_in_counties("household__village__code")).exists():
        say("演示走访记录已存在，未写入。")
        return
    rng = random.Random(f"shuanglian-demo-{SEED}-visits")
    logins = {u.region_id: u for u in User.objects.filter(region_id__in=DEMO_TOWNSHIPS.values())}
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    townships = {code[:9]: logins.get(code) or admin for code in DEMO_TOWNSHIPS.values()}

    def clerk_for(village_code: str):
        # Township staff copy the diaries in their own township; elsewhere the records came in by admin.
        return townships.get(village_code[:9], admin)

    pairings = (
        Pairing.objects.filter(_in_counties("household__village__code"), started_on__lte=datetime.date(YEAR, 12, 31))
        .select_related("household")
        .order_by("household__head_id_number", "started_on", "cadre__name")
    )
    visits = [v for p in pairings for v in _household_visits(rng, p, clerk_for(p.household.village_id))]
    Visit.objects.bulk_create(visits, batch_size=BATCH)

    cadres_by_unit = {}
    for unit_id, cadre_id in Cadre.objects.active().order_by("unit_id", "name", "phone").values_list("unit_id", "pk"):
        cadres_by_unit.setdefault(unit_id, []).append(cadre_id)
    links = VillageLink.objects.filter(_in_counties("village__code")).select_related("unit").order_by(
        "village_id", "unit__name", "started_on")
    planned = [pair for link in links for pair in _unit_visits(rng, link, cadres_by_unit.get(link.unit_id, []),
                                                               clerk_for(link.village_id))]
    saved = UnitVisit.objects.bulk_create([visit for visit, _ in planned], batch_size=BATCH)
    Through = UnitVisit.cadres.through
    Through.objects.bulk_create(
        [Through(unitvisit_id=visit.pk, cadre_id=cadre) for visit, (_, cadres) in zip(saved, planned) for cadre in cadres],
        batch_size=BATCH,
    )
    tallies.rebuild()  # bulk_create bypassed record_visit: the worklists' figures, recounted in one pass
    if connection.vendor == "postgresql":
        # Fresh statistics for every table the demo filled: without them the planner guesses a handful of rows
        # and the worklists' anti-joins can take minutes (inside load_demo's transaction, before autovacuum).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    say(f"  走访记录 {len(visits)} 条（{YEAR}年），单位联村走访 {len(saved)} 次")
