"""Time `flag_records` at province scale on PostgreSQL: a full first run, a second full run (which
must create nothing), and a daily incremental run (--since) over a new day of entries (enter_a_new_day:
about 1/365 of the visits, home visits with diaries among them), which it removes again after.

The generated visits all carry one short diary and one instant of entry; this bench first gives the
home visits varied diaries and spreads recorded_at (rising with the id, evenly over a year). A diary
is five fragments from pools of primes' sizes around the visit's own details (its date, the
household's size, income and land, numbers taken from the id), as a real diary names them: five
fragments alone leave so few combinations for 2.9M diaries that nearly every diary had a neighbour
with four of its five fragments (Jaccard ≥ 0.8, a copy by the rule: 1,223 of the last 1,250
diaries matched an earlier one), and the first run would have written ~2.8 million copy flags.
A near-copy is planted every 997th home visit (its predecessor's diary, details and all, with a
clause added): FIGURE flags.planted_copies_found counts how many of them the first run flagged.
Prints seconds, peak memory (ru_maxrss) and what was found (each detector's time), and FIGURE lines
with the issue's goals (first run < 10 min, daily run < 30 s, < 1 GB).
Run through bench/flags.sh [scale], which keeps its cluster so the data is reused.
"""

import datetime
import resource
import sys
import time

import _pages  # first: sets Django up
from django.db import connection

POOLS = [
    [
        "今天到户里走访",
        "上午入户看望",
        "下午到家中走访",
        "带着政策明白卡入户",
        "与村干部一同入户",
        "雨后到家里查看",
        "趁农闲入户",
        "到田间地头找到户主",
        "晚饭前到家里坐了坐",
        "陪同驻村工作队入户",
        "利用周末入户",
        "一早赶到村里",
        "和包村干部一起走访",
        "骑摩托到山上的户里",
        "借赶集的机会入户",
        "在村委会见到户主后随他回家",
        "入户核对一卡通",
        "入户送去春耕化肥",
        "到家中查看新房",
    ],
    [
        "户主说马铃薯长势不错",
        "老人的慢性病药快吃完了",
        "孩子考上了县一中",
        "羊圈今年扩建了两间",
        "女儿在兰州打工",
        "家里新添了一台旋耕机",
        "去年的小额贷款已还清",
        "中药材价格比去年低",
        "屋顶有两处漏雨",
        "儿子想学挖掘机技术",
        "低保金按月到账",
        "媳妇在合作社做零工",
        "今年多种了两亩玉米",
        "养的八头牛都出栏了",
        "自来水入户后方便多了",
        "户主腰疼干不了重活",
        "孙子上幼儿园要接送",
        "想申请危房改造",
        "承包地想流转出去",
        "家里通了宽带",
        "大儿子在新疆打工寄钱回来",
        "鸡舍里新买了一百只鸡",
        "合作社分红到了账",
    ],
    [
        "宣讲了教育资助政策",
        "核对了新农合报销单据",
        "讲解了产业奖补标准",
        "登记了技能培训意愿",
        "联系了农技员上门指导",
        "帮助填写了贷款申请",
        "提醒按时缴纳医保",
        "转达了村道硬化进展",
        "讲解了雨露计划",
        "核实了家庭收入",
        "协调了合作社收购",
        "宣讲了养老保险政策",
        "帮助预约了县医院专家号",
        "送去了防寒物资",
        "讲解了光伏扶贫收益",
        "记下了饮水问题向村委反映",
        "介绍了劳务输出岗位",
        "宣讲了易地搬迁政策",
        "对接了电商平台销售",
        "核对了残疾补贴",
        "讲解了危房改造补助",
        "帮助办理了临时救助",
        "讲解了退耕还林补助",
        "宣传了防诈骗知识",
        "提醒注意用火安全",
        "讲解了生态护林员岗位",
        "帮助联系了驾校培训",
        "宣传了移风易俗",
        "核对了耕地地力补贴",
    ],
    [
        "户主表示满意",
        "家里人都很高兴",
        "老人拉着手说谢谢",
        "户主说还有些顾虑",
        "约定下月再来",
        "留了联系卡",
        "村干部一同做了记录",
        "户主提出了几点建议",
        "孩子也在一旁听",
        "一家人算了今年的收入账",
        "户主说会积极参加",
        "答应尽快落实",
        "约好培训时一起去",
        "记下了需要协调的事",
        "户主说今年有信心",
        "和户主一起看了地里的庄稼",
        "走时天已经黑了",
        "顺便看了邻居家",
        "户主送到村口",
        "户主说再考虑考虑",
        "对接了乡里相关站所",
        "拍照留存了佐证",
        "问了问村里的新情况",
        "讲了讲致富能手的经验",
        "户主的担心基本消除了",
        "请户主监督落实",
        "说好有事打电话",
        "户主要了政策明白卡",
        "户主说想见见技术员",
        "户主拿出了收入台账",
        "下次带上申请表",
    ],
    [
        "下一步继续跟踪",
        "下一步协调资金",
        "下一步联系培训",
        "下一步向乡里反映",
        "下一步帮助对接市场",
        "下一步核实材料",
        "下一步督促落实",
        "下一步请技术员上门",
        "下一步联系医院",
        "下一步跟进贷款",
        "下一步联系学校",
        "下一步对接用工",
        "下一步协调村委",
        "下一步上报乡镇",
        "下一步帮忙找销路",
        "下一步入户回访",
        "下一步电话跟进",
        "下一步整理台账",
        "下一步协调合作社",
        "下一步帮助申报",
        "下一步争取项目",
        "下一步联系民政",
        "下一步跟进危改",
        "下一步联系农技站",
        "下一步跟进补贴",
        "下一步对接电商",
        "下一步请驻村队协助",
        "下一步联系人社",
        "下一步协调水务",
        "下一步联系交通",
        "下一步帮助规划",
        "下一步跟进医保",
        "下一步协调林业",
        "下一步跟进分红",
        "下一步再次入户",
        "下一步汇报单位",
        "下一步研究办法",
    ],
]


def ensure_data(scale: float):
    from demo.province import generate_visits
    from visits.models import Visit

    if not _pages.generate_province_if_empty(scale) and Visit.objects.exists():
        print("reusing the data already in the database")
    elif not Visit.objects.exists():
        with _pages.timed("visits generated"):
            generate_visits()
    if Visit.objects.filter(mode="入户走访").exclude(diary__contains=DETAIL_MARK).exists():
        with _pages.timed("diaries varied, copies planted, entry times spread"):
            vary()
    _pages.analyze(vacuum=True)


DETAIL_MARK = "人均纯收入"


def _diary_sql() -> str:
    """A home visit's diary as an SQL expression of its row: five fragments picked by its id, around
    its own details (date, household size, income, land)."""
    parts = []
    for index, pool in enumerate(POOLS):
        literal = "ARRAY[" + ",".join(f"'{text}'" for text in pool) + "]"
        parts.append(f"({literal})[1 + ((id * {index * 7 + 3}) / {index + 1}) % {len(pool)}]")
    details = [
        "to_char(visited_on, 'FMMM\"月\"FMDD\"日\"')",
        parts[0],
        "'，'",
        parts[1],
        f"'，家中' || (2 + id % 6) || '口人，{DETAIL_MARK}' || (3000 + (id * 7919) % 9000) || '元，'",
        parts[2],
        "'，'",
        parts[3],
        "'，种了' || (1 + (id * 31) % 17) || '亩地，'",
        parts[4],
        "'。'",
    ]
    return " || ".join(details)


def _plant_copies(cursor, first_id: int = 0) -> None:
    """A near-copy every 997th home visit from first_id on: its predecessor's diary with a clause added."""
    table = _visit_table()
    cursor.execute(
        f"UPDATE {table} v SET diary = replace(p.diary, '。', '，户主签了字。') FROM {table} p "
        f"WHERE v.mode = '入户走访' AND p.mode = '入户走访' AND v.id %% 997 = 0 AND p.id = v.id - 1 "
        "AND v.id >= %s",
        [first_id],
    )


def _visit_table() -> str:
    from visits.models import Visit

    return Visit._meta.db_table


def vary():
    table = _visit_table()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET diary = {_diary_sql()} WHERE mode = '入户走访'")
        _plant_copies(cursor)
        # Entered in id order over a year, as inserts are: --since finds the day's first id by bisection.
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
        low, high = cursor.fetchone()
        cursor.execute(
            f"UPDATE {table} SET recorded_at = TIMESTAMP WITH TIME ZONE '2025-01-01 08:00+08' "
            "+ (id - %s) * (INTERVAL '365 days' / %s)",
            [low, max(1, high - low)],
        )


# The columns a new day's visit copies from an old one (all but its id, day, entry and key).
COPIED = (
    "diary mode task_policy task_opinion task_development task_emotion task_grassroots task_model help_cash "
    "help_goods help_goods_value help_project next_steps cadre_id household_id recorded_by_id"
).split()


def enter_a_new_day(day) -> tuple[int, int]:
    """A day of entries after the last one, as a daily cron run meets them: a copy of every 365th
    visit (every mode, so home visits with diaries among them), each dated the day after its
    original and given a diary of its own (a near-copy every 997th, as in the year). Generation
    enters the modes one after another, so the year's last recorded day holds only text-message
    contacts and would leave the copied-diary detector nothing to do. Returns (first id, visits)."""
    table = _visit_table()
    columns = ", ".join(COPIED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        (last_id,) = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {table} ({columns}, visited_on, recorded_at) "
            f"SELECT {columns}, visited_on + 1, "
            "%s::timestamptz + ROW_NUMBER() OVER (ORDER BY id) * INTERVAL '3 seconds' "
            f"FROM {table} WHERE id %% 365 = 0 ORDER BY id ON CONFLICT DO NOTHING",
            [f"{day.isoformat()} 08:00+08"],
        )
        added = cursor.rowcount
        diary = _diary_sql().replace("%", "%%")  # beside a parameter
        home = f"UPDATE {table} SET diary = {diary} WHERE id > %s AND mode = '入户走访'"
        cursor.execute(home, [last_id])
        _plant_copies(cursor, last_id + 1)
    return last_id + 1, added


def forget_the_new_day(first_id: int) -> None:
    """The kept database as it was: the new day's visits gone, with their flags and bands."""
    from inspections.models import DiaryBand, Flag, FlagVisit

    Flag.objects.filter(pk__in=FlagVisit.objects.filter(visit_id__gte=first_id).values("flag_id")).delete()
    DiaryBand.objects.filter(visit_id__gte=first_id).delete()
    with connection.cursor() as cursor:  # entered by SQL, left by SQL: no history of a bench's day
        cursor.execute(f"DELETE FROM {_visit_table()} WHERE id >= %s", [first_id])


def _planted_found() -> tuple[int, int]:
    """(planted near-copies flagged as 雷同日记, planted near-copies)."""
    from inspections.models import Flag, FlagVisit
    from visits.models import Visit

    planted = Visit.objects.filter(mode="入户走访", diary__endswith="户主签了字。")
    found = (
        FlagVisit.objects.filter(flag__kind=Flag.Kind.COPIED, visit__in=planted)
        .values("visit_id")
        .distinct()
        .count()
    )
    total = planted.count()
    print(f"planted near-copies flagged: {found} of {total}")
    return found, total


def timed_run(label: str, **kwargs) -> dict:
    from inspections import flags

    began, cpu = time.perf_counter(), time.process_time()
    result = flags.run(log=lambda line: print(f"    {line}", flush=True), **kwargs)  # each detector's time
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The CPU seconds of this process tell the app's own work from waiting on a busy machine.
    print(
        f"{label:<30}{seconds:>9.1f} s (python CPU {cpu:.1f} s)  peak RSS {peak:>6.0f} MB  "
        f"created {result['created']:>6}  {result['by_kind']}"
    )
    return {**result, "wall": round(seconds, 1), "cpu": round(cpu, 1)}


def main(scale: float, repeat_only: bool = False):
    _pages.prepare_database()
    ensure_data(scale)
    from django.db.models import Max
    from django.utils import timezone

    from inspections.models import DiaryBand, Flag, FlagRun, FlagVisit
    from visits.models import Visit

    visits = Visit.objects.count()
    home = Visit.objects.filter(mode="入户走访").count()
    print(f"scale {scale}: {visits} visits, {home} home visits with diaries")
    if repeat_only and Flag.objects.exists():  # `bash bench/flags.sh <scale> repeat`: the kept flags stay
        last_at = Visit.objects.aggregate(at=Max("recorded_at"))["at"]
        timed_run("full run again (creates 0)")
        timed_run("incremental --since (creates 0)", since=timezone.localtime(last_at).date())
        return
    # Start from no flags, so that the full run is a first run.
    FlagVisit.objects.all().delete()
    Flag.objects.all().delete()
    with connection.cursor() as cursor:  # tens of millions of rows: a DELETE would leave them dead
        cursor.execute(f"TRUNCATE {DiaryBand._meta.db_table}")
    FlagRun.objects.all().delete()
    _pages.analyze()
    first = timed_run("full (first) run")
    planted = _planted_found()
    again = timed_run("full run again (creates 0)")
    # The daily run: a new day of entries after the last one (about 1/365 of the table).
    last_at = Visit.objects.aggregate(at=Max("recorded_at"))["at"]
    since = timezone.localtime(last_at).date() + datetime.timedelta(days=1)
    first_new, added = enter_a_new_day(since)
    home = Visit.objects.filter(id__gte=first_new, mode="入户走访").count()
    print(f"incremental --since {since}: {added} new visits ({home} home visits with diaries)")
    try:
        daily = timed_run("incremental --since", since=since)
        daily_again = timed_run("incremental again (creates 0)", since=since)
    finally:
        forget_the_new_day(first_new)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _pages.figure("flags.full_first_run", first["wall"], "s", "<600")
    _pages.figure("flags.full_first_run.python_cpu", first["cpu"], "s")
    _pages.figure("flags.planted_copies_found", planted[0], "count", f"={planted[1]}")
    _pages.figure("flags.full_run_again.created", again["created"], "count", "=0")
    _pages.figure("flags.incremental_run", daily["wall"], "s", "<30")
    _pages.figure("flags.incremental_again.created", daily_again["created"], "count", "=0")
    _pages.figure("flags.peak_rss", round(peak), "MB", "<1024")
    print(
        f"open flags {Flag.objects.open().count()}; diary bands {DiaryBand.objects.count()}; "
        f"flagged visits {FlagVisit.objects.values('visit_id').distinct().count()}"
    )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, repeat_only=sys.argv[2:3] == ["repeat"])
