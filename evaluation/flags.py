"""Integrity flags on a round (疑点): findings in the ballots worth a second look, each saying why.

- 走访次数不符: a household answered 0次 or 1–2次 to "今年干部到过你家几次" while the visit record holds
  VISITS_RECORDED or more home visits (入户走访) to it from 1 January to the end of the round's period.
  Either the record is not true or the answer is mistaken; the office finds out which.
- 采集过快: PACE_RUNS or more of a collector's phone ballots each arrived less than the round's
  `pace_minutes` after that collector's previous one (paper sheets are imported at once and left out).
- 答卷雷同: in a village with IDENTICAL_MIN or more ballots, IDENTICAL_MIN or more of them, making up at
  least IDENTICAL_SHARE % of the village's ballots, carry exactly the same answers (texts included).

`find` only reads; services.refresh_flags (and closing a round) stores what it finds as Flag rows.
"""

import datetime
import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import timezone

from households.models import Region
from visits.models import Visit

from .models import Ballot, Flag, Round
from .questionnaire import VISITS
from .scores import mask, period_dates

VISITS_RECORDED = 4
LOW_ANSWERS = ("0次", "1–2次")
PACE_RUNS = 2
IDENTICAL_MIN = 5
IDENTICAL_SHARE = 80
CHUNK = 2000


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    reason: str
    village_id: str | None = None


def find(round_: Round) -> list[Finding]:
    return visit_mismatches(round_) + fast_collectors(round_) + identical_villages(round_)


def visit_mismatches(round_: Round) -> list[Finding]:
    low = list(
        Ballot.objects.filter(round=round_, **{f"answers__{VISITS}__in": LOW_ANSWERS})
        .values_list("sample_id", "household_id", "household__head_name", "household__village_id", "answers")
        .order_by("sample_id")
    )
    _start, end = period_dates(round_)
    start = datetime.date(round_.year, 1, 1)
    recorded = {}
    household_ids = [row[1] for row in low]
    for offset in range(0, len(household_ids), CHUNK):
        recorded.update(
            (row["household_id"], (row["n"], row["last"]))
            for row in Visit.objects.filter(
                household_id__in=household_ids[offset : offset + CHUNK],
                mode=Visit.Mode.HOME,
                visited_on__gte=start,
                visited_on__lte=end,
            )
            .order_by()
            .values("household_id")
            .annotate(n=Count("pk"), last=Max("visited_on"))
        )
    villages = _village_names({row[3] for row in low})
    findings = []
    for sample_id, household_id, head_name, village_id, answers in low:
        count, last = recorded.get(household_id, (0, None))
        if count < VISITS_RECORDED:
            continue
        reason = (
            f"{mask(head_name)}户（{villages.get(village_id, '')}）"
            f"答“今年干部到过你家几次”为“{answers[VISITS]}”，"
            f"而走访记录中{start:%Y年%m月%d日}至{end:%Y年%m月%d日}有入户走访 {count} 次"
            f"（最近一次 {last:%Y-%m-%d}）。请核实是走访记录不实，还是答卷有误。"
        )
        findings.append(Finding(Flag.Kind.VISITS, f"s{sample_id}", reason, village_id))
    return findings


def fast_collectors(round_: Round) -> list[Finding]:
    pace = datetime.timedelta(minutes=round_.pace_minutes)
    previous, fast = {}, defaultdict(list)  # collector → last arrival; collector → short gaps
    names = {}
    for collector_id, name, at in (
        Ballot.objects.filter(round=round_, source=Ballot.Source.PHONE)
        .order_by("collector_id", "collected_at", "pk")
        .values_list("collector_id", "collector__name", "collected_at")
        .iterator(chunk_size=5000)
    ):
        names[collector_id] = name
        before = previous.get(collector_id)
        if before is not None and at - before < pace:
            fast[collector_id].append((at - before, at))
        previous[collector_id] = at
    findings = []
    for collector_id, gaps in sorted(fast.items()):
        if len(gaps) < PACE_RUNS:
            continue
        shortest, at = min(gaps)
        first = timezone.localtime(gaps[0][1])
        reason = (
            f"采集员{names[collector_id]}有 {len(gaps)} 张手机评议票"
            f"与其上一张相隔不足 {round_.pace_minutes} 分钟"
            f"（最短 {int(shortest.total_seconds())} 秒，最早一次 {first:%Y-%m-%d %H:%M}）。"
            "入户或电话评议一户通常需要更长时间，请核实是否逐户评议。"
        )
        findings.append(Finding(Flag.Kind.PACE, f"c{collector_id}", reason))
    return findings


def _pattern(answers: dict) -> str:
    return json.dumps(answers, sort_keys=True, ensure_ascii=False)


def identical_villages(round_: Round) -> list[Finding]:
    per_village = defaultdict(Counter)
    for village_id, answers in (
        Ballot.objects.filter(round=round_)
        .values_list("household__village_id", "answers")
        .order_by()
        .iterator(chunk_size=5000)
    ):
        per_village[village_id][_pattern(answers)] += 1
    suspicious = {}
    for village_id, patterns in per_village.items():
        total = sum(patterns.values())
        pattern, same = patterns.most_common(1)[0]
        if total >= IDENTICAL_MIN and same >= IDENTICAL_MIN and same * 100 >= IDENTICAL_SHARE * total:
            suspicious[village_id] = (total, same, json.loads(pattern))
    villages = _village_names(set(suspicious))
    order = list(round_.questions.values_list("code", flat=True))
    findings = []
    for village_id, (total, same, answers) in sorted(suspicious.items()):
        shown = "、".join(
            "/".join(value) if isinstance(value, list) else str(value)
            for code, value in sorted(answers.items(), key=lambda item: _position(order, item[0]))
            if not code.endswith("__text")
        )
        reason = (
            f"{villages.get(village_id, village_id)}的 {total} 张评议票中"
            f"有 {same} 张答案完全相同（{shown}）。"
            "请核实是否逐户评议、是否代填。"
        )
        findings.append(Finding(Flag.Kind.IDENTICAL, f"v{village_id}", reason, village_id))
    return findings


def _position(order: list[str], code: str) -> int:
    return order.index(code) if code in order else len(order)


def _village_names(codes) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
