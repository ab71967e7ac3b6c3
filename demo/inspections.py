"""Demo 督查 and integrity data, loaded by `manage.py load_demo` after visits and plans.

A few records that look fabricated in 马营镇 (two near-identical diaries, a cadre in two townships
on one day, a home visit to a household working away), flagged by inspections.flags over those
records only; one flag confirmed into a finding the township has to answer; an inspection in
progress with call-backs and findings (one item overdue); two approved typical cases; a posted
notice list. Idempotent: once the demo inspection exists, nothing is written.
"""

import datetime

from django.db import transaction

from accounts.models import User
from households.models import Region
from inspections import flags, services
from inspections.models import Flag, Inspection, TypicalCase
from pairing.models import Pairing
from visits import tallies
from visits.models import Visit

from .units import MAYING, TONGWEI

NAME = "马营镇民情日记专项督查"
COPIED = (
    "今天到户里走访，户主说今年种了六亩马铃薯，两亩中药材，行情还可以。孩子在县一中上高二，"
    "宣讲了雨露计划和教育资助政策，叮嘱按时参加合作社的技术培训。"
)


def _fabricated(today: datetime.date) -> list[Visit]:
    """The three kinds of record an inspector should look at, entered as a clerk would."""

    def clerk_of(household):
        """The clerk of the household's township, who enters its visits."""
        township = household.village_id[:9] + "000"
        return User.objects.filter(role=User.Role.TOWNSHIP, region_id=township).order_by("pk").first()

    pairings = list(
        Pairing.objects.open()
        .responsible()
        .filter(household__village__code__startswith=MAYING[:9])
        .select_related("household", "cadre")
        .order_by("cadre_id", "household_id")
    )
    by_cadre = {}
    for pairing in pairings:
        by_cadre.setdefault(pairing.cadre_id, []).append(pairing)
    two = next(group for group in by_cadre.values() if len(group) >= 2)
    made = []

    def visit(pairing_or_household, cadre, day, diary="", mode=Visit.Mode.HOME):
        household = getattr(pairing_or_household, "household", pairing_or_household)
        row, created = Visit.objects.get_or_create(
            household=household,
            cadre=cadre,
            visited_on=day,
            mode=mode,
            defaults={"diary": diary, "recorded_by": clerk_of(household), "task_policy": True},
        )
        if created:
            tallies.count_visit(row)
            made.append(row)

    # 雷同日记: one cadre's two households, the same diary a week apart, a name changed.
    visit(two[0], two[0].cadre, today - datetime.timedelta(days=12), COPIED)
    visit(two[1], two[1].cadre, today - datetime.timedelta(days=5), COPIED.replace("六亩", "五亩"))
    # 不可能的一天: one cadre at home, on one day, with households of two townships the cadre holds
    # (a county unit's cadre may hold households wherever the unit links villages).
    day = today - datetime.timedelta(days=9)
    spread = {}
    for pairing in (
        Pairing.objects.open()
        .filter(household__village__code__startswith=TONGWEI, started_on__lte=day)
        .select_related("household", "cadre")
        .order_by("cadre_id", "household_id")
    ):
        spread.setdefault(pairing.cadre_id, {}).setdefault(pairing.household.village_id[:9], pairing)
    wide = next((list(townships.values())[:2] for townships in spread.values() if len(townships) >= 2), [])
    for pairing in wide:
        visit(pairing, pairing.cadre, day, "")
    # 外出务工户入户走访: a household away since before the visit.
    away = next(
        (p for p in pairings if p.household.working_away and p.household.working_away_since),
        None,
    )
    if away:
        visit(away, away.cadre, max(away.household.working_away_since, today - datetime.timedelta(days=20)))
    return made


@transaction.atomic
def load(say, today: datetime.date) -> None:
    if Inspection.objects.filter(name=NAME).exists():
        return
    county = User.objects.get(username="tongwei")
    township_user = User.objects.get(username="tongwei_town")
    city = User.objects.get(username="dingxi")
    made = _fabricated(today)
    found = flags.run(from_visit_id=min(v.pk for v in made)) if made else {"created": 0}
    away = Flag.objects.filter(kind=Flag.Kind.AWAY).order_by("pk").first()
    if away:
        services.review_flag(
            by=county, flag=away, confirm=True, note="核实该户外出期间的入户走访记录，约谈帮扶干部"
        )

    township = Region.objects.get(code=MAYING)
    inspection = services.create_inspection(
        by=county,
        name=NAME,
        starts_on=today - datetime.timedelta(days=2),
        ends_on=today + datetime.timedelta(days=3),
        checks="听取汇报、电话回访、现场督查、检查民情日记",
        townships=[township],
        team=[county],
        visits_from=today - datetime.timedelta(days=60),
        visits_to=today - datetime.timedelta(days=1),
        per_cadre=1,
        seed=2012,
    )
    samples = list(inspection.samples.order_by("order")[:4])
    results = [
        ("属实", ""),
        ("属实", ""),
        ("不符", "农户说当月干部没有到过家里，只打过电话"),
        ("无法联系", ""),
    ]
    for sample, (result, note) in zip(samples, results, strict=False):
        services.record_check(by=county, sample=sample, result=result, method="电话回访", note=note)
    services.add_finding(
        by=county,
        inspection=inspection,
        text="个别干部民情日记内容雷同，存在补写、代写现象",
        township=township,
        requirement="组织干部重新核对本季度民情日记，如实记录",
        due_on=today + datetime.timedelta(days=15),
    )
    services.add_finding(
        by=county,
        inspection=inspection,
        text="回访中一户反映走访记录与实际不符",
        township=township,
        requirement="核实并说明情况，必要时更正记录",
        due_on=today - datetime.timedelta(days=1),  # overdue: on both sides' worklists
    )

    diary = Visit.objects.filter(household__village__code__startswith=MAYING[:9]).exclude(diary="").first()
    case = services.nominate_case(
        by=township_user,
        kind=TypicalCase.Kind.DIARY,
        subject=diary,
        title="一本记实事的民情日记",
        write_up="干部每次入户都记下农户的难处和办理结果，下次走访先回访上次的事，群众说“干部记得住我们的事”。",
    )
    services.review_case(by=county, case=case, approve=True)
    cadre = diary.cadre
    case = services.nominate_case(
        by=county,
        kind=TypicalCase.Kind.CADRE,
        subject=cadre,
        title="扎根联系村的帮扶干部",
        write_up="联系户中有三户因病致贫，协调医疗救助和低保兜底，帮助发展养殖，两户已稳定脱贫。",
    )
    services.review_case(by=city, case=case, approve=True)

    village = (
        Region.objects.filter(code__startswith=MAYING[:9], level="village", households__isnull=False)
        .order_by("code")
        .first()
    )
    services.record_posting(by=township_user, village=village, posted_on=today - datetime.timedelta(days=7))
    say(
        f"  督查：疑点 {found['created']} 个，一次进行中的督查（抽查 {inspection.samples.count()} 条），"
        f"典型 2 个，公示 1 个村"
    )
