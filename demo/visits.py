"""A year of visits for the demo pairings up to yesterday, and the units' visits to their linked villages.

Deterministic for a given day of loading: the pairings are read in a fixed order (household ID, start
date) and every choice comes from seeded generators, the dates counting back from the day (dates.Calendar).
Idempotent: nothing is written when the demo counties already have visits. Written with bulk_create in
one transaction.

The mix gives every worklist something to show on the day of loading: most households are visited
about monthly (the last time within 30 days); some are behind the quota (2 visits in the year); some
had nothing in the last four months (not visited in 90 days); some working-away households are mostly
reached by phone or contact card. Each record was entered by the clerk of its township (the demo
township logins, or that township's clerk login), that evening or a few days later.
"""

import datetime
import random

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from pairing.models import Cadre, Pairing, VillageLink
from visits import tallies
from visits.models import LockedMonth, UnitVisit, Visit

from .build import COUNTIES, SEED, clerk_username
from .dates import SLOTS, Calendar

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


def _household_visits(rng, calendar: Calendar, pairing, clerk, locked) -> list[Visit]:
    habit = rng.random()
    phone_first = rng.random() < 0.12  # working away: reached by phone or contact card
    # Slots of 30 days counted back from yesterday, the oldest first (0 = the last 30 days).
    slots = list(range(SLOTS - 1, -1, -1))
    if habit < 0.12:
        slots = sorted(rng.sample(slots, 2), reverse=True)  # behind the quota
    elif habit < 0.22:
        slots = slots[:-4]  # nothing in the last four months: not visited in 90 days
    elif habit < 0.30:
        slots = [10, 7, 4, 1]  # just the quota
    first, last = _days_in_force(pairing, calendar.first_visit_day, calendar.yesterday)
    visits = []
    for slot in slots:
        day = calendar.slot_day(rng, slot)
        if not first <= day <= last or locked(pairing.household.village_id, day):
            continue
        if phone_first:
            mode = rng.choice((Visit.Mode.PHONE, Visit.Mode.PHONE, Visit.Mode.CONTACT_CARD, Visit.Mode.HOME))
        else:
            mode = rng.choice((Visit.Mode.HOME,) * 8 + (Visit.Mode.PHONE, Visit.Mode.MEETING))
        tasks = rng.sample(Visit.TASK_FIELDS, rng.randrange(1, 4))
        cash = rng.choice((0,) * 9 + (200,))
        visits.append(
            Visit(
                household_id=pairing.household_id,
                cadre_id=pairing.cadre_id,
                visited_on=day,
                mode=mode,
                diary=rng.choice(DIARIES),
                help_cash=cash,
                recorded_by=clerk,
                **{task: True for task in tasks},
            )
        )
    return visits


def _unit_visits(rng, calendar: Calendar, link, cadres, clerk, locked) -> list[tuple[UnitVisit, list[int]]]:
    first, last = _days_in_force(link, calendar.first_visit_day, calendar.yesterday)
    if first > last or not cadres:
        return []
    span = (last - first).days + 1
    days = sorted(
        {first + datetime.timedelta(days=rng.randrange(span)) for _ in range(rng.choice((3, 5, 7, 8, 9)))}
    )
    days = [day for day in days if not locked(link.village_id, day)]
    return [
        (
            UnitVisit(
                unit_id=link.unit_id,
                village_id=link.village_id,
                visited_on=day,
                activities=rng.choice(VILLAGE_WORK),
                recorded_by=clerk,
            ),
            rng.sample(cadres, min(len(cadres), rng.randrange(1, 4))),
        )
        for day in days
    ]


class _Locks:
    """Months whose report was approved, per region: the demo writes no visit into them."""

    def __init__(self):
        self.months = set(LockedMonth.objects.values_list("region_id", "month"))

    def __call__(self, village_code: str, day: datetime.date) -> bool:
        if not self.months:
            return False
        month = day.replace(day=1)
        regions = (
            village_code,
            village_code[:9] + "000",
            village_code[:6] + "000000",
            village_code[:4] + "00000000",
            village_code[:2] + "0000000000",
        )
        return any((region, month) in self.months for region in regions)


def _clerks() -> dict[str, User]:
    """Township (9 digits) -> the clerk login who enters its records (created by store.ensure_logins)."""
    clerks = User.objects.filter(role=User.Role.TOWNSHIP).filter(_in_counties("region__code"))
    return {user.region_id[:9]: user for user in clerks if user.username == clerk_username(user.region_id)}


def _stamp(model, records, calendar: Calendar, rng) -> None:
    """Give each saved record the moment its clerk entered it (bulk_create stamped the load time)."""
    for record in records:
        record.recorded_at = calendar.entered_at(rng, record.visited_on)
    model.objects.bulk_update(records, ["recorded_at"], batch_size=500)


@transaction.atomic
def load(say=print, today: datetime.date | None = None) -> None:
    if Visit.objects.filter(_in_counties("household__village__code")).exists():
        say("演示走访记录已存在，未写入。")
        return
    calendar = Calendar(today or timezone.localdate())
    rng = random.Random(f"shuanglian-demo-{SEED}-visits")
    clerks = _clerks()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    locked = _Locks()

    def clerk_for(village_code: str):
        # Township staff copy the cadres' diaries; the admin only if a clerk login was removed.
        return clerks.get(village_code[:9], admin)

    pairings = (
        Pairing.objects.filter(_in_counties("household__village__code"), started_on__lte=calendar.yesterday)
        .select_related("household")
        .order_by("household__head_id_number", "started_on", "cadre__name")
    )
    visits = [
        visit
        for pairing in pairings
        for visit in _household_visits(
            rng, calendar, pairing, clerk_for(pairing.household.village_id), locked
        )
    ]
    Visit.objects.bulk_create(visits, batch_size=BATCH)

    cadres_by_unit = {}
    for unit_id, cadre_id in (
        Cadre.objects.active().order_by("unit_id", "name", "phone").values_list("unit_id", "pk")
    ):
        cadres_by_unit.setdefault(unit_id, []).append(cadre_id)
    links = (
        VillageLink.objects.filter(_in_counties("village__code"))
        .select_related("unit")
        .order_by("village_id", "unit__name", "started_on")
    )
    planned = [
        pair
        for link in links
        for pair in _unit_visits(
            rng, calendar, link, cadres_by_unit.get(link.unit_id, []), clerk_for(link.village_id), locked
        )
    ]
    saved = UnitVisit.objects.bulk_create([visit for visit, _ in planned], batch_size=BATCH)
    Through = UnitVisit.cadres.through
    Through.objects.bulk_create(
        [
            Through(unitvisit_id=visit.pk, cadre_id=cadre)
            for visit, (_, cadres) in zip(saved, planned)
            for cadre in cadres
        ],
        batch_size=BATCH,
    )
    # Entry times from a generator of their own, so that they never reshuffle the visits themselves.
    entered = random.Random(f"shuanglian-demo-{SEED}-entered")
    _stamp(Visit, visits, calendar, entered)
    _stamp(UnitVisit, saved, calendar, entered)
    tallies.rebuild()  # bulk_create bypassed record_visit: the worklists' figures, recounted in one pass
    if connection.vendor == "postgresql":
        # Fresh statistics for every table the demo filled: without them the planner guesses a handful of rows
        # and the worklists' anti-joins can take minutes (inside load_demo's transaction, before autovacuum).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    say(
        f"  走访记录 {len(visits)} 条（{calendar.first_visit_day} 至 {calendar.yesterday}，"
        f"由各乡镇录入员录入），单位联村走访 {len(saved)} 次"
    )
