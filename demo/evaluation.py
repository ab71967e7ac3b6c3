"""Demo mass evaluation, loaded by `manage.py load_demo` after visits, demands and plans.

通渭县: a closed round (a share of each village drawn, collected by three volunteers over a month,
a few households unreachable with their substitutes, two 八个不准 reports, and a few ballots the
integrity flags catch: households saying they were hardly visited against a full visit record, one
collector entering ballots a minute apart, one village of identical answers). 东乡族自治县: an open
round, part of it assigned to the printed collector login `pingyi` with some ballots still to collect.

Deterministic for a given day of loading (its own fixed seeds) and idempotent: once a demo round
exists, nothing is written.
"""

import datetime
import random

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from evaluation import services
from evaluation.models import Round, SampledHousehold
from households.models import Region
from visits.models import Visit

from .build import COUNTIES, PASSWORD

TONGWEI, DONGXIANG = COUNTIES
COLLECTOR_LOGIN = "pingyi"
COLLECTOR_NAME = "马玉梅"
TONGWEI_VOLUNTEERS = (
    ("tongwei_pingyi_1", "张春花"),
    ("tongwei_pingyi_2", "李建军"),
    ("tongwei_pingyi_3", "王秀英"),
)
CLOSED_NAME = "通渭县群众评议（演示）"
OPEN_NAME = "东乡族自治县群众评议（演示）"
DEEDS = ("产业发展", "务工就业", "危房改造", "看病就医", "子女上学", "低保救助", "政策宣传")
SUGGESTIONS = ("希望多来村里看看", "盼着把村道修好", "想学养殖技术", "希望孩子上学有补助")


def _account(username: str, name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=PASSWORD, first_name=name)
    return user


def _answers(rng: random.Random, home_visits: int) -> dict:
    satisfaction = rng.choices(["满意", "基本满意", "不满意", "不了解"], weights=[62, 26, 6, 6])[0]
    said = (
        "0次"
        if not home_visits
        else "1–2次"
        if home_visits < 3
        else "3–5次"
        if home_visits < 6
        else "6次以上"
    )
    answers = {"satisfaction": satisfaction, "visits": said, "violation": "无"}
    if rng.random() < 0.8:
        answers["deeds"] = sorted(rng.sample(DEEDS, rng.randint(1, 2)), key=DEEDS.index)
    if rng.random() < 0.2:
        answers["suggestions"] = rng.choice(SUGGESTIONS)
    return answers


def _home_visits(round_: Round) -> dict[int, int]:
    return dict(
        Visit.objects.filter(
            household_id__in=round_.samples.values("household_id"),
            mode=Visit.Mode.HOME,
            visited_on__year=round_.year,
        )
        .values_list("household_id")
        .annotate(n=Count("pk"))
    )


def _assign_by_village(office, round_, collectors, at_least=None) -> None:
    """Each village's waiting households to one collector in turn (with at_least: villages until
    that many households are assigned)."""
    rows = round_.samples.filter(status=SampledHousehold.Status.PENDING, collector__isnull=True)
    codes = sorted(set(rows.values_list("household__village_id", flat=True)))
    assigned = 0
    for index, code in enumerate(codes):
        if at_least is not None and assigned >= at_least:
            break
        assigned += rows.filter(household__village_id=code).count()
        services.assign_collector(
            by=office,
            round_=round_,
            collector=collectors[index % len(collectors)],
            samples=list(rows.filter(household__village_id=code)),
        )


def _closed_round(today: datetime.date, office: User) -> tuple[int, int]:
    start = today - datetime.timedelta(days=35)
    round_ = services.open_round(
        by=office,
        region=Region.objects.get(pk=TONGWEI + "000000"),
        name=CLOSED_NAME,
        year=start.year,
        starts_on=start,
        ends_on=today,
        sample_method=Round.SampleMethod.PER_VILLAGE,
        sample_parameter=30,
        seed=20261,
    )
    collectors = [
        services.register_collector(
            by=office, user=_account(login, name), region=round_.region, kind="志愿者", name=name
        )
        for login, name in TONGWEI_VOLUNTEERS
    ]
    _assign_by_village(office, round_, collectors)
    rng = random.Random(f"demo-evaluation:{TONGWEI}")
    # A few households away: their substitutes come from the same draw.
    for sample in list(round_.samples.order_by("pk"))[5:40:12]:
        services.mark_unreachable(
            by=sample.collector.user, sample=sample, reason=rng.choice(["外出", "无人在家"])
        )
    _assign_by_village(office, round_, collectors)
    visits = _home_visits(round_)
    pending = list(
        round_.samples.filter(status=SampledHousehold.Status.PENDING, collector__isnull=False)
        .select_related("collector__user", "household")
        .order_by("household__village_id", "pk")
    )
    per_village = {}
    for sample in pending:
        per_village[sample.household.village_id] = per_village.get(sample.household.village_id, 0) + 1
    identical_village = max(sorted(per_village), key=per_village.get)  # the largest sample, first by code
    hardly_visited = [s.pk for s in pending if visits.get(s.household_id, 0) >= 4][3:6]
    clock = {}  # collector → when their last ballot went in
    written = 0
    for index, sample in enumerate(pending):
        collector = sample.collector
        answers = _answers(rng, visits.get(sample.household_id, 0))
        if sample.household.village_id == identical_village:
            answers = {"satisfaction": "满意", "visits": "6次以上", "deeds": ["产业发展"], "violation": "无"}
        if sample.pk in hardly_visited:
            answers["visits"] = "0次"
        if index in (17, 140):
            answers["violation"], answers["violation__text"] = (
                "有",
                rng.choice(["过年时收过农户送的一只羊", "让农户帮忙跑腿办私事"]),
            )
        day = start + datetime.timedelta(days=1 + index * 30 // len(pending))
        earliest = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        previous = clock.get(collector.pk)
        # One volunteer rushes a handful of ballots a minute apart on one afternoon.
        gap = 1 if collector == pending[0].collector and 60 <= index < 66 else rng.randint(15, 40)
        at = max(earliest, previous + datetime.timedelta(minutes=gap)) if previous else earliest
        clock[collector.pk] = at
        services.record_ballot(
            by=collector.user,
            sample=sample,
            mode=rng.choice(["入户", "入户", "电话"]),
            answers=answers,
            collected_at=at,
        )
        written += 1
    last_day = max(clock.values()).date() if clock else today
    Round.objects.filter(pk=round_.pk).update(ends_on=max(last_day, start))
    round_.refresh_from_db()
    services.close_round(by=office, round_=round_)
    case = round_.violation_cases.order_by("pk").first()
    if case:
        services.settle_violation_case(
            by=office, case=case, status="属实", outcome="已约谈该干部，退还所收物品"
        )
    return written, round_.flags.count()


def _open_round(today: datetime.date, office: User) -> tuple[int, int]:
    round_ = services.open_round(
        by=office,
        region=Region.objects.get(pk=DONGXIANG + "000000"),
        name=OPEN_NAME,
        year=today.year,
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=21),
        sample_method=Round.SampleMethod.PER_VILLAGE,
        sample_parameter=20,
        seed=20262,
    )
    collector = services.register_collector(
        by=office,
        user=_account(COLLECTOR_LOGIN, COLLECTOR_NAME),
        region=round_.region,
        kind="志愿者",
        name=COLLECTOR_NAME,
    )
    _assign_by_village(office, round_, [collector], at_least=16)
    rng = random.Random(f"demo-evaluation:{DONGXIANG}")
    mine = list(round_.samples.filter(collector=collector).select_related("household").order_by("pk"))
    visits = _home_visits(round_)
    at = timezone.now() - datetime.timedelta(days=3)
    for sample in mine[: len(mine) // 2]:
        at += datetime.timedelta(minutes=rng.randint(15, 40))
        services.record_ballot(
            by=collector.user,
            sample=sample,
            mode="入户",
            answers=_answers(rng, visits.get(sample.household_id, 0)),
            collected_at=at,
        )
    return len(mine) // 2, round_.samples.filter(status=SampledHousehold.Status.PENDING).count()


@transaction.atomic
def load(say, today: datetime.date) -> None:
    if Round.objects.filter(name__in=[CLOSED_NAME, OPEN_NAME]).exists():
        say("演示群众评议已存在，未写入。")
        return
    offices = {u.username: u for u in User.objects.filter(username__in=["tongwei", "dongxiang"])}
    if len(offices) < 2:
        say("缺少演示账号，未写入演示群众评议。")
        return
    ballots, flags = _closed_round(today, offices["tongwei"])
    collected, pending = _open_round(today, offices["dongxiang"])
    say(
        f"  群众评议：通渭县一轮已结束（评议票 {ballots} 张，疑点 {flags} 条，“八个不准”反映 2 件）；"
        f"东乡族自治县一轮进行中（已采集 {collected} 张，待采集 {pending} 户）"
    )


def login_line() -> str:
    return (
        f"群众评议采集员：{COLLECTOR_LOGIN}（{COLLECTOR_NAME}，志愿者，东乡族自治县评议；"
        f"手机打开“群众评议 → 我的采集任务”），密码相同。"
    )
