"""Demo plans and households working away, loaded by `manage.py load_demo` after the roster.

Deterministic for a given day of loading (choices follow the ID numbers, never a random seed of
its own; the plans are for the year of that day) and idempotent: once any demo village plan
exists, nothing is written.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from households.models import Household, Region
from pairing.models import Pairing, VillageLink
from plans import services
from plans.models import VillagePlan

from .build import DEMO_TOWNSHIPS

COUNTIES = tuple(DEMO_TOWNSHIPS)
INDUSTRIES = {
    "621121": ("马铃薯种植", "中药材种植", "草畜养殖"),
    "622926": ("东乡贡羊养殖", "洋芋种植", "劳务输出"),
}
PROJECTS = (("梯田改造", "200000"), ("人饮工程", "85000"), ("村道硬化", "360000"), ("养殖暖棚", "120000"))
MEASURES_BY_CAUSE = {
    "因病": ["医疗", "低保兜底"],
    "因残": ["低保兜底", "医疗"],
    "因学": ["教育", "务工"],
    "缺技术": ["技能培训", "产业"],
    "缺资金": ["小额信贷", "产业"],
    "缺劳力": ["产业", "低保兜底"],
}
WORK_PLACES = ("新疆乌鲁木齐市", "兰州市", "青海西宁市", "内蒙古包头市", "宁夏银川市")
VILLAGES_OUTSIDE_DEMO_TOWNSHIPS = 6
HOUSEHOLD_PLANS_PER_TOWNSHIP = 40
# About one household in twelve of the demo townships works away.
WORKING_AWAY_EVERY = 12


def _in_counties(field: str) -> Q:
    query = Q()
    for county in COUNTIES:
        query |= Q(**{f"{field}__startswith": county})
    return query


def _author(township: str) -> User:
    return (
        User.objects.filter(role=User.Role.TOWNSHIP, region_id=township).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )


@transaction.atomic
def load(say, today: datetime.date) -> None:
    if VillagePlan.objects.filter(_in_counties("village__code")).exists():
        say("演示帮扶计划已存在，未写入。")
        return
    if not User.objects.filter(is_superuser=True).exists():
        return
    villages = _village_plans(today.year)
    households = _household_plans(today.year)
    away = _working_away(today)
    say(
        f"  村帮扶计划 {villages} 份、户帮扶计划 {households} 份（{today.year} 年，部分有修改记录）；"
        f"外出务工户 {away} 户"
    )


def _linked_poor_villages():
    return (
        Region.objects.villages()
        .filter(_in_counties("code"), is_poor=True, code__in=VillageLink.objects.open().values("village_id"))
        .order_by("code")
    )


def _village_plans(year: int) -> int:
    demo_townships = tuple(DEMO_TOWNSHIPS.values())
    villages = list(_linked_poor_villages())
    chosen = [v for v in villages if v.code[:9] in {t[:9] for t in demo_townships}]
    for county in COUNTIES:
        others = [v for v in villages if v.code.startswith(county) and v not in chosen]
        chosen += others[:VILLAGES_OUTSIDE_DEMO_TOWNSHIPS]
    for index, village in enumerate(chosen):
        industries = INDUSTRIES[village.code[:6]]
        author = _author(DEMO_TOWNSHIPS[village.code[:6]])
        industry = industries[index % len(industries)]
        projects = [
            {"name": name, "funds": f"{Decimal(funds):.2f}"}
            for name, funds in PROJECTS[index % 2 : index % 2 + 2]
        ]
        data = {
            "development_path": f"以{industry}为主导，稳定增收；完善基础设施，扶志扶智。",
            "leading_industry": industry,
            "projects": projects,
        }
        services.save_village_plan(village=village, year=year, data=data, by=author)
        if index % 3 == 0:  # a revision, so the history has something to show
            data = dict(data, projects=projects + [{"name": "村级光伏电站", "funds": "500000.00"}])
            services.save_village_plan(village=village, year=year, data=data, by=author, expected_version=1)
    return len(chosen)


def _household_plans(year: int) -> int:
    count = 0
    for county, township in DEMO_TOWNSHIPS.items():
        author = _author(township)
        households = (
            Household.objects.poor()
            .filter(
                village__code__startswith=township[:9],
                pairings__ended_on__isnull=True,
                pairings__role=Pairing.Role.RESPONSIBLE,
            )
            .order_by("head_id_number")[:HOUSEHOLD_PLANS_PER_TOWNSHIP]
        )
        for index, household in enumerate(households):
            measures = MEASURES_BY_CAUSE.get(household.main_cause, ["产业", "务工"])
            if household.housing in ("C级危房", "D级危房"):
                measures = measures + ["危房改造"]
            last_year = household.income_per_head
            data = {
                "causes": [c for c in [household.main_cause, *household.other_causes] if c],
                "measures": measures,
                "targets": "年内人均纯收入稳定超过国家扶贫标准，实现“两不愁、三保障”。",
                "outcome": "",
                "income_last_year": last_year,
                "income_this_year": None,
            }
            services.save_household_plan(household=household, year=year, data=data, by=author)
            if index % 2 == 0 and last_year is not None:
                data = dict(
                    data,
                    outcome="措施已落实，收入稳定增长。",
                    income_this_year=(last_year * Decimal("1.15")).quantize(Decimal("0.01")),
                )
                services.save_household_plan(
                    household=household, year=year, data=data, by=author, expected_version=1
                )
            count += 1
    return count


def _working_away(today: datetime.date) -> int:
    count = 0
    for township in DEMO_TOWNSHIPS.values():
        households = Household.objects.filter(village__code__startswith=township[:9]).order_by(
            "head_id_number"
        )
        for index, household in enumerate(households.only("pk", "head_id_number")):
            if index % WORKING_AWAY_EVERY:
                continue
            place = WORK_PLACES[count % len(WORK_PLACES)]
            since = datetime.date(today.year - 1 - count % 3, 3, 1)
            Household.objects.filter(pk=household.pk).update(
                working_away=True, working_away_place=place, working_away_since=since
            )
            count += 1
    return count
