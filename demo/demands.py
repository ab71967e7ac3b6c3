"""Demo demands: in each demo township, demands at every level and in every status, some overdue,
each with the path of actions that brought it there.

Which households, what they asked and how far it went are fixed; the dates count back from the
day of loading, so that "overdue" means something whenever the demo is loaded. Written once:
when the demo counties already have demands, nothing is written.
"""

import datetime
import random

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from demands.models import LEVEL_ORDER, Demand, DemandAction, DemandDeadlines, Level
from households.models import Household
from pairing.models import Pairing
from shuanglian.lib.codes import county_code

from .build import COUNTIES, DEMO_TOWNSHIPS, LOGINS
from .units import LIAISON_UNITS

Kind = DemandAction.Kind
Status = Demand.Status

# (level it sits at now, status, overdue?) — every level, every status, some late.
SCENARIOS = [
    (Level.CADRE, Status.PENDING, False),
    (Level.CADRE, Status.PENDING, True),
    (Level.CADRE, Status.IN_PROGRESS, False),
    (Level.CADRE, Status.RESOLVED, False),
    (Level.CADRE, Status.EXPLAINED, False),
    (Level.UNIT, Status.PENDING, True),
    (Level.UNIT, Status.IN_PROGRESS, False),
    (Level.UNIT, Status.RESOLVED, False),
    (Level.TOWNSHIP, Status.PENDING, False),
    (Level.TOWNSHIP, Status.IN_PROGRESS, True),
    (Level.TOWNSHIP, Status.RESOLVED, False),
    (Level.TOWNSHIP, Status.EXPLAINED, False),
    (Level.COUNTY, Status.PENDING, False),
    (Level.COUNTY, Status.IN_PROGRESS, True),
    (Level.COUNTY, Status.EXPLAINED, False),
    (Level.CITY, Status.PENDING, False),
    (Level.CITY, Status.IN_PROGRESS, True),
    (Level.CITY, Status.RESOLVED, False),
    (Level.PROVINCE, Status.PENDING, True),
    (Level.PROVINCE, Status.IN_PROGRESS, False),
    (Level.PROVINCE, Status.RESOLVED, False),
]

ASKS = {
    "生产发展": ["想扩大养羊规模，缺少启动资金", "申请马铃薯良种和地膜", "希望参加中药材种植技术培训"],
    "基础设施": ["村道雨后泥泞，希望硬化", "自来水入户管道冻裂", "社里缺一座便民桥"],
    "住房": ["房屋墙体开裂，申请危房改造", "危房改造补助尚未到位"],
    "医疗": ["母亲慢性病长期用药负担重", "大病住院报销比例有疑问"],
    "教育": ["孩子考上高中，学费有困难", "希望了解雨露计划补助"],
    "低保救助": ["家中劳力因病丧失劳动能力，申请低保", "五保供养金发放时间有疑问"],
    "矛盾纠纷": ["与邻居宅基地界线有争议", "土地流转租金未按时支付"],
    "政策咨询": ["咨询易地扶贫搬迁政策", "咨询小额信贷贴息条件"],
    "其他": ["希望村里开通广播", "外出务工人员返乡后想找本地活"],
}
REASONS = {
    Level.CADRE: "超出帮扶干部能力范围，需单位协调",
    Level.UNIT: "需乡镇统筹项目资金",
    Level.TOWNSHIP: "涉及县级部门审批",
    Level.COUNTY: "需市级协调跨县事项",
    Level.CITY: "涉及省级政策，报省双联办",
}
CLOSINGS = {
    Status.RESOLVED: ("已协调落实，问题解决", "已当面告知户主办理结果，户主表示满意"),
    Status.EXPLAINED: ("按现行政策暂不符合条件，已说明原因", "已向户主解释政策规定，户主表示理解"),
}


def load(say) -> int:
    """Write the demo demands unless the demo counties have demands already; returns how many."""
    in_counties = Q()
    for county in COUNTIES:
        in_counties |= Q(household__village__code__startswith=county)
    if Demand.objects.filter(in_counties).exists():
        say("演示诉求已存在，未写入。")
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=[login.username for login in LOGINS])}
    if len(users) < len(LOGINS):
        say("缺少演示账号，未写入演示诉求。")
        return 0
    written = 0
    with transaction.atomic():
        for county, township in sorted(DEMO_TOWNSHIPS.items()):
            written += _write_county(county, township, users)
    say(f"  诉求 {written} 件（各层级、各状态均有，部分逾期），附办理经过")
    return written


def _demo_logins(county: str, users: dict) -> dict:
    """Who acts at each level in this county (township staff act for the cadres)."""
    town, unit, city, office = {
        COUNTIES[0]: ("tongwei_town", "tongwei_unit", "dingxi", "tongwei"),
        COUNTIES[1]: ("dongxiang_town", "dongxiang_unit", "linxia", "dongxiang"),
    }[county]
    return {
        Level.CADRE: users[town],
        Level.UNIT: users[unit],
        Level.TOWNSHIP: users[town],
        Level.COUNTY: users[office],
        Level.CITY: users[city],
        Level.PROVINCE: users["province"],
    }


def _households(township: str, liaison_unit: str) -> list[Household]:
    """Households of the demo township with a responsible cadre; the liaison unit's first, so the
    demo unit login has demands at its level."""
    pairings = (
        Pairing.objects.open()
        .responsible()
        .filter(household__village__code__startswith=township[:9])
        .select_related("household", "cadre__unit")
        .order_by("household__head_id_number")
    )
    own = [p.household for p in pairings if p.cadre.unit.name == liaison_unit]
    others = [p.household for p in pairings if p.cadre.unit.name != liaison_unit]
    return own + others


def _write_county(county: str, township: str, users: dict) -> int:
    rng = random.Random(f"shuanglian-demo-demands-{county}")
    households = _households(township, LIAISON_UNITS[county])[: len(SCENARIOS)]
    actors = _demo_logins(county, users)
    deadlines = DemandDeadlines.table([county_code(township)])[county_code(township)]
    today = timezone.localdate()
    now = timezone.now()
    demands, paths = [], []
    for household, (level, status, overdue) in zip(households, SCENARIOS):
        category = rng.choice(list(ASKS))
        text = rng.choice(ASKS[category])
        climbs = LEVEL_ORDER.index(level)
        raised_on = today - datetime.timedelta(days=10 + 8 * climbs + rng.randrange(10))
        day = raised_on
        path = [(Kind.RAISE, text, Level.CADRE, "", actors[Level.CADRE], day)]
        for lower in LEVEL_ORDER[:climbs]:
            day += datetime.timedelta(days=2)
            path.append((Kind.ACCEPT, "", lower, "", actors[lower], day))
            day += datetime.timedelta(days=4)
            upper = LEVEL_ORDER[LEVEL_ORDER.index(lower) + 1]
            path.append((Kind.ESCALATE, REASONS[lower], lower, upper, actors[lower], day))
        if status != Status.PENDING:
            day += datetime.timedelta(days=1)
            path.append((Kind.ACCEPT, "", level, "", actors[level], day))
            replied = day + datetime.timedelta(days=1)
            path.append((Kind.REPLY, "正在协调相关部门办理", level, "", actors[level], replied))
        if status in CLOSINGS:
            closing, told = CLOSINGS[status]
            kind = Kind.RESOLVE if status == Status.RESOLVED else Kind.EXPLAIN
            path.append((kind, closing, level, "", actors[level], day + datetime.timedelta(days=2)))
            path.append((Kind.FEEDBACK, told, level, "", actors[level], day + datetime.timedelta(days=3)))
        if overdue:
            due_on = today - datetime.timedelta(days=3)
        else:
            due_on = max(day, today) + datetime.timedelta(days=deadlines[level])
        demands.append(
            Demand(
                household=household,
                raised_on=raised_on,
                category=category,
                text=text,
                level=level,
                status=status,
                due_on=due_on,
                raised_by=actors[Level.CADRE],
            )
        )
        paths.append(path)
    Demand.objects.bulk_create(demands)
    actions = []
    for demand, path in zip(demands, paths):
        for kind, text, from_level, to_level, by, day in path:
            at = min(now, timezone.make_aware(datetime.datetime.combine(day, datetime.time(10))))
            actions.append(
                DemandAction(
                    demand=demand,
                    kind=kind,
                    text=text,
                    from_level=from_level,
                    to_level=to_level,
                    by=by,
                    at=at,
                )
            )
    DemandAction.objects.bulk_create(actions)
    return len(demands)
