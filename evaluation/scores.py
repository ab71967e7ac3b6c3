"""Scores, grades and rankings of a round's cadres, and the explanation of each score.

Masses' score (群众评议得分): over the cadre's ballots, the weighted mean of the scored answers
(Σ weight × score ÷ Σ weight over the answers that carry a score: 不了解 is left out); a ballot
with no scored answer is not counted; fewer than 5 counted ballots carries a caution.

Process score (过程指标得分): the plain mean of four indicators, each 0–100, computed from the
record for the round's period (1 January–31 December, or the half-year), up to today if earlier.
Each is a ratio of two per-cadre figures of the indicator catalogue (Indicator.by_cadre, defined in
pairing/, visits/, demands/ and plans/indicators.py and read in one grouped query each); in short:

- 走访达标率 (visits against quota): over the cadre's responsible pairings in force at the end, the
  mean of min(1, visits ÷ owed), where visits are the cadre's Visit rows for that household in the
  period (every mode counts, as in visits/worklists.py) and owed is the county's VisitQuota pro
  rata (visits.worklists.owed_by, less what was owed before the period began); nothing owed = 1.
- 联系覆盖率 (households contacted): the share of those households with at least one Visit row by
  the cadre in the period (any mode).
- 诉求按期办结率 (demands resolved on time): of the demands of those households raised in the period
  and due by its end, the share closed (已解决 or 已解释) by a 办结/解释 action dated on or before the
  due date; none due counts as 100.
- 帮扶计划到位率 (plans in place): the share of those households with a HouseholdPlan for the round's year.

A cadre with no responsible pairing in force at the end (transferred since the draw) owes nothing
and scores 100 on each; the explanation shows the 0 / 0 behind it.

Combined (综合得分) = masses × w1 % + process × w2 %, rounded to two decimals; grades compare that
rounded figure with the round's lines. 优秀 needs ≥ the line and a place within the top
floor(share % × cadres scored) by combined score (ties broken by masses' score, then cadre id);
those over the line beyond the cap are 良好. Ranks are competition ranks by combined score.
Only cadres with at least one counted ballot are scored.

Units (单位): a unit's masses' score is the weighted mean above over the ballots of households
helped by its cadres and of households in the villages it is linked to (联村, links in force at the
period's end), each ballot once; its process score is the mean of its sampled cadres' process
scores; combined, grades (the same lines and 优秀 cap, among units) and ranks as for cadres. A unit
with no sampled cadre or no counted ballot is listed unscored.
"""

import datetime
import functools
import math
import operator
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, FloatField, IntegerField, Sum, Value, When, Window
from django.db.models.fields.json import KT
from django.db.models.functions import Rank
from django.db.models.lookups import Exact, GreaterThan, In
from django.utils import timezone

from imports import bulk
from pairing.models import Cadre, Unit, VillageLink
from shuanglian import indicators as catalogue
from shuanglian.indicators import Period

from .models import Ballot, Round, Score

CAUTION_BELOW = 5
EXCELLENT, GOOD, PASS, FAIL = "优秀", "良好", "合格", "不合格"

# The four rates: code → (name, numerator, denominator, rule); the numerator and the denominator are
# per-cadre figures of the indicator catalogue (shuanglian/indicators.py, defined by the apps that
# own them), so the combined score reads the same figures as every other page.
INDICATORS = {
    "visits": (
        "走访达标率",
        "cadre_visits_against_quota",
        "cadre_households_responsible",
        "单户最高按100%计",
    ),
    "contacted": ("联系覆盖率", "cadre_households_contacted", "cadre_households_responsible", ""),
    "demands": ("诉求按期办结率", "cadre_demands_on_time", "cadre_demands_due", "无到期诉求按100%计"),
    "plans": ("帮扶计划到位率", "cadre_households_planned", "cadre_households_responsible", ""),
}


def period_dates(round_: Round) -> tuple[datetime.date, datetime.date]:
    """The period's first day and its last day counted (the period's end, or today if earlier)."""
    start = datetime.date(round_.year, 7 if round_.period == Round.Period.SECOND_HALF else 1, 1)
    end = (
        datetime.date(round_.year, 6, 30)
        if round_.period == Round.Period.FIRST_HALF
        else datetime.date(round_.year, 12, 31)
    )
    return start, min(end, timezone.localdate())


@dataclass
class Indicator:
    code: str
    numerator: float
    denominator: int

    @property
    def name(self):
        return INDICATORS[self.code][0]

    @property
    def definition(self):
        """ "A ÷ B" with the catalogue's definitions of A and B, then the rate's own rule."""
        _name, numerator, denominator, rule = INDICATORS[self.code]
        top, bottom = catalogue.get(numerator), catalogue.get(denominator)
        text = f"{top.name} ÷ {bottom.name}。{top.name}：{top.definition}；{bottom.name}：{bottom.definition}"
        return f"{text}；{rule}。" if rule else f"{text}。"

    @property
    def value(self) -> float:
        return 100.0 if not self.denominator else round(100 * self.numerator / self.denominator, 2)


@dataclass
class CadreScore:
    cadre_id: int
    cadre_name: str = ""
    unit_name: str = ""
    ballots: int = 0
    counted: int = 0
    masses: float | None = None
    indicators: list[Indicator] = field(default_factory=list)
    process: float | None = None
    combined: float | None = None
    grade: str = ""
    rank: int | None = None
    scope_rank: int | None = None
    unit_id: int | None = field(default=None, compare=False)  # filled where the rows are computed

    @property
    def caution(self) -> bool:
        return self.counted < CAUTION_BELOW

    @property
    def ident(self) -> int:
        return self.cadre_id


@dataclass
class UnitScore:
    unit_id: int
    unit_name: str = ""
    cadres: int = 0
    ballots: int = 0
    counted: int = 0
    masses: float | None = None
    process: float | None = None
    combined: float | None = None
    grade: str = ""
    rank: int | None = None
    scope_rank: int | None = None

    @property
    def caution(self) -> bool:
        return self.counted < CAUTION_BELOW

    @property
    def ident(self) -> int:
        return self.unit_id


def ballot_score(weights, answers) -> tuple[float, int]:
    """(Σ weight × score, Σ weight) over the ballot's scored answers; (0, 0) when none scores."""
    total, weight_here = 0.0, 0
    for code, (weight, scores) in weights.items():
        score = scores.get(answers.get(code))
        if score is not None:
            total += weight * score
            weight_here += weight
    return total, weight_here


def scored_weights(round_: Round) -> dict[str, tuple[int, dict]]:
    """code → (weight, {value: score}) for the questions counted in the masses' score."""
    return {
        q.code: (q.weight, {c["value"]: c.get("score") for c in q.choices})
        for q in round_.questions.filter(scored=True)
    }


def _ballot_sums(weights) -> tuple:
    """ballot_score() as two database expressions over a ballot's answers: Σ weight × score and
    Σ weight over its scored answers (each 0 when none scores)."""
    totals, weights_here = [], []
    for index, (code, (weight, scores)) in enumerate(weights.items()):
        scored = [(value, score) for value, score in scores.items() if score is not None]
        if not scored:
            continue
        answer = KT(f"answers__{code}")
        totals.append(
            Case(
                *[
                    When(Exact(answer, Value(value)), then=Value(float(weight * score)))
                    for value, score in scored
                ],
                default=Value(0.0),
                output_field=FloatField(),
            )
        )
        weights_here.append(
            Case(
                When(In(answer, [value for value, _score in scored]), then=Value(weight)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    if not totals:
        return Value(0.0, output_field=FloatField()), Value(0, output_field=IntegerField())
    return functools.reduce(operator.add, totals), functools.reduce(operator.add, weights_here)


def _grouped_ballots(round_: Round, *fields) -> list[tuple]:
    """(*fields, ballots, ballots counted, Σ w×s, Σ w) per distinct value of `fields`: one grouped query."""
    total, weight = _ballot_sums(scored_weights(round_))
    return list(
        Ballot.objects.filter(round=round_)
        .values(*fields)
        .annotate(
            n=Count("pk"),
            counted=Sum(Case(When(GreaterThan(weight, 0), then=Value(1)), default=Value(0))),
            total=Sum(total),
            weight=Sum(weight),
        )
        .order_by()
        .values_list(*fields, "n", "counted", "total", "weight")
    )


def masses_scores(round_: Round) -> dict[int, tuple[int, int, float | None]]:
    """cadre id → (ballots, ballots counted, masses' score or None), summed by the database."""
    return {
        cadre_id: (ballots, counted or 0, (total / weight if weight else None))
        for cadre_id, ballots, counted, total, weight in _grouped_ballots(round_, "sample__cadre_id")
    }


def process_indicators(round_: Round, cadre_ids, *, among=None) -> dict[int, list[Indicator]]:
    """The four indicators of each cadre, read from the indicator catalogue's per-cadre figures
    (shuanglian/indicators.py: one grouped query per figure, whatever the number of cadres).
    `among` (a subquery of cadre ids, such as the round's sample) filters in SQL instead of a
    long list of ids."""
    start, end = period_dates(round_)
    cadre_ids = list(cadre_ids)
    keys = {
        key
        for _name, numerator, denominator, _rule in INDICATORS.values()
        for key in (numerator, denominator)
    }
    figures = catalogue.values_by_cadre(
        keys, cadre_ids if among is None else among, Period(start, end + datetime.timedelta(days=1))
    )
    result = {}
    for cadre_id in cadre_ids:
        theirs = figures.get(cadre_id, {})
        result[cadre_id] = [
            Indicator(code, theirs.get(numerator, 0), theirs.get(denominator, 0))
            for code, (_name, numerator, denominator, _rule) in INDICATORS.items()
        ]
    return result


def grade(round_: Round, scores: list) -> None:
    """Set grade and rank on the scored cadres or units (combined not None), in place."""
    scored = sorted(
        (s for s in scores if s.combined is not None), key=lambda s: (-s.combined, -s.masses, s.ident)
    )
    cap = math.floor(len(scored) * round_.excellent_share / 100)
    excellent = 0
    for position, score in enumerate(scored):
        if position and score.combined == scored[position - 1].combined:
            score.rank = scored[position - 1].rank
        else:
            score.rank = position + 1
        if score.combined >= round_.excellent_min and excellent < cap:
            score.grade, excellent = EXCELLENT, excellent + 1
        elif score.combined >= round_.good_min:
            score.grade = GOOD
        elif score.combined >= round_.pass_min:
            score.grade = PASS
        else:
            score.grade = FAIL


def round_scores(round_: Round, cadre_ids=None) -> list[CadreScore]:
    """Every sampled cadre's score, graded and ranked within the round, best first (unscored last)."""
    masses = masses_scores(round_)
    among = round_.samples.values("cadre_id")
    # The sampled cadres with their names: plain tuples, no model instance per cadre.
    names = {
        pk: (name, unit_id, unit_name)
        for pk, name, unit_id, unit_name in Cadre.objects.filter(pk__in=among).values_list(
            "pk", "name", "unit_id", "unit__name"
        )
    }
    sampled = set(names) | set(masses)
    indicators = process_indicators(round_, sampled, among=among)
    scores = []
    for cadre_id in sampled:
        ballots, counted, value = masses.get(cadre_id, (0, 0, None))
        figures = indicators[cadre_id]
        process = sum(i.value for i in figures) / len(figures)
        name, unit_id, unit_name = names[cadre_id]
        score = CadreScore(
            cadre_id,
            name,
            unit_name,
            ballots,
            counted,
            None if value is None else round(value, 2),
            figures,
            round(process, 2),
            unit_id=unit_id,
        )
        if value is not None:
            score.combined = round(
                value * round_.weight_masses / 100 + process * round_.weight_process / 100, 2
            )
        scores.append(score)
    grade(round_, scores)
    scores.sort(key=lambda s: (s.rank is None, s.rank or 0, s.cadre_id))
    if cadre_ids is not None:
        wanted = set(cadre_ids)
        scores = [s for s in scores if s.cadre_id in wanted]
    return scores


def rank_within(scores: list) -> None:
    """Competition ranks over just these scores (the part of the round a user's scope holds)."""
    previous = None
    for position, score in enumerate(s for s in scores if s.combined is not None):
        score.scope_rank = (
            previous.scope_rank if previous and previous.combined == score.combined else position + 1
        )
        previous = score


def _links(round_: Round) -> dict[str, set[int]]:
    """village code → the units linked to it at the period's end, within the round's region."""
    _start, end = period_dates(round_)
    linked = defaultdict(set)
    for village_id, unit_id in (
        VillageLink.objects.on(end)
        .filter(village__code__startswith=round_.region.prefix)
        .values_list("village_id", "unit_id")
    ):
        linked[village_id].add(unit_id)
    return linked


def unit_scores(round_: Round, cadre_scores: list[CadreScore], unit_ids=None) -> list[UnitScore]:
    """Every unit's score (its cadres' households and its linked villages), graded and ranked among
    the round's units, best first. `cadre_scores` is round_scores(round_) for the whole round."""
    linked = _links(round_)
    sums = defaultdict(lambda: [0, 0, 0.0, 0])  # ballots, counted, Σ w×s, Σ w
    # Summed by the database per (cadre's unit, village); each group then counts once for the
    # cadre's unit and for every other unit linked to its village: one pass over a few thousand rows.
    for unit_id, village_id, ballots, counted, total, weight in _grouped_ballots(
        round_, "sample__cadre_unit_id", "household__village_id"
    ):
        for unit in {unit_id} | linked.get(village_id, set()):
            entry = sums[unit]
            entry[0] += ballots
            entry[1] += counted or 0
            entry[2] += total or 0.0
            entry[3] += weight or 0
    sampled_units = set(round_.samples.order_by().values_list("cadre_unit_id", flat=True).distinct())
    units = sampled_units | set(sums)
    names = dict(Unit.objects.filter(pk__in=units).values_list("pk", "name"))
    theirs_of = defaultdict(list)
    for cadre in cadre_scores:
        theirs_of[cadre.unit_id].append(cadre)
    result = []
    for unit_id in units:
        ballots, counted, total, weight = sums.get(unit_id, (0, 0, 0.0, 0))
        theirs = theirs_of.get(unit_id, [])
        score = UnitScore(unit_id, names.get(unit_id, ""), len(theirs), ballots, counted)
        if weight:
            score.masses = round(total / weight, 2)
        if theirs:
            score.process = round(sum(s.process for s in theirs) / len(theirs), 2)
        if score.masses is not None and score.process is not None:
            score.combined = round(
                score.masses * round_.weight_masses / 100 + score.process * round_.weight_process / 100, 2
            )
        result.append(score)
    grade(round_, result)
    result.sort(key=lambda s: (s.rank is None, s.rank or 0, s.unit_id))
    if unit_ids is not None:
        wanted = set(unit_ids)
        result = [s for s in result if s.unit_id in wanted]
    return result


def explain_unit(round_: Round, unit_id: int) -> dict:
    """What a unit's score is made of: the formula, its cadres' scores, every ballot counted
    (households masked) and why it counts (本单位干部帮扶户 or 联系村)."""
    row = (
        Score.objects.filter(round=round_, kind=Score.Kind.UNIT, unit_id=unit_id).first()
        if round_.scored_at
        else None
    )
    if row is not None:
        score = unit_of(row)
        cadres = [
            cadre_of(r)
            for r in Score.objects.filter(round=round_, kind=Score.Kind.CADRE, unit_id=unit_id).order_by(
                F("rank").asc(nulls_last=True), "cadre_id"
            )
        ]
    else:
        everyone = round_scores(round_)
        score = next(s for s in unit_scores(round_, everyone) if s.unit_id == unit_id)
        cadres = [s for s in everyone if s.cadre_id in _cadres_of(unit_id, everyone)]
    weights = scored_weights(round_)
    _start, end = period_dates(round_)
    linked_villages = set(
        VillageLink.objects.on(end)
        .filter(unit_id=unit_id, village__code__startswith=round_.region.prefix)
        .values_list("village_id", flat=True)
    )
    ballots = []
    # Two indexed reads rather than one OR across a join, which scans the round's ballots.
    theirs = Ballot.objects.filter(round=round_).select_related("household__village", "sample")
    found = {b.pk: b for b in theirs.filter(sample__cadre_unit_id=unit_id)}
    found.update((b.pk, b) for b in theirs.filter(household__village_id__in=linked_villages))
    for ballot in sorted(found.values(), key=lambda b: (b.household.village_id, b.collected_at, b.pk)):
        total, weight_here = ballot_score(weights, ballot.answers)
        ballots.append(
            {
                "household": f"{mask(ballot.household.head_name)}户（{ballot.household.village.name}）",
                "collected_on": timezone.localdate(ballot.collected_at),
                "why": "本单位干部帮扶户" if ballot.sample.cadre_unit_id == unit_id else "联系村农户",
                "score": round(total / weight_here, 2) if weight_here else None,
            }
        )
    return {
        "score": score,
        "cadres": cadres,
        "formula": (
            f"综合得分 = 群众评议得分 × {round_.weight_masses}% + 过程指标得分 × {round_.weight_process}%"
        ),
        "masses_rule": "群众评议得分 = 本单位干部帮扶户和本单位联系村农户的评议票中计分题得分的加权平均"
        "（每票只计一次，“不了解”不计入）",
        "process_rule": "过程指标得分 = 本轮抽中的本单位干部过程指标得分的平均值",
        "ballots": ballots,
        "villages": sorted(linked_villages),
        "caution": score.caution,
    }


def _cadres_of(unit_id: int, cadres: list[CadreScore]) -> set[int]:
    return set(
        Cadre.objects.filter(pk__in=[s.cadre_id for s in cadres], unit_id=unit_id).values_list(
            "pk", flat=True
        )
    )


def mask(name: str) -> str:
    """王建国 → 王**: enough for a unit to recognise its households, not to expose them."""
    return name[:1] + "*" * max(1, len(name) - 1)


# --- Stored scores: computed once (closing the round, or 重新计算), read by the pages ------------------


def store(round_: Round) -> tuple[int, int]:
    """Compute every cadre's and unit's score and keep them as Score rows (replacing earlier ones).
    Returns (cadres, units). The caller holds the transaction. The rows go in through the imports'
    bulk writer (COPY on PostgreSQL): at 80k rows, model instances and INSERT statements were most
    of the time."""
    cadres = round_scores(round_)
    units = unit_scores(round_, cadres)
    Score.objects.filter(round=round_).delete()

    def row(score, kind: str, name: str) -> dict:
        return {
            "round_id": round_.pk,
            "kind": kind,
            "unit_id": score.unit_id,
            "name": name[:100],
            "ballots": score.ballots,
            "counted": score.counted,
            "masses": score.masses,
            "process": score.process,
            "combined": score.combined,
            "grade": score.grade,
            "rank": score.rank,
        }

    cadre_rows = (
        row(s, Score.Kind.CADRE.value, s.cadre_name)
        | {
            "cadre_id": s.cadre_id,
            "unit_name": s.unit_name[:100],
            "indicators": [[i.code, i.numerator, i.denominator] for i in s.indicators],
        }
        for s in cadres
    )
    unit_rows = (
        row(s, Score.Kind.UNIT.value, s.unit_name) | {"cadre_id": None, "cadres": s.cadres} for s in units
    )
    # Never None and never holding a tab, newline or backslash: written into COPY's text as they are.
    plain = {"round_id", "kind", "unit_id", "ballots", "counted", "grade"}
    bulk.insert_rows(Score, cadre_rows, plain=plain | {"cadre_id", "process"})
    bulk.insert_rows(Score, unit_rows, plain=plain | {"cadres"})
    return len(cadres), len(units)


def cadre_of(row: Score) -> CadreScore:
    return CadreScore(
        row.cadre_id,
        row.name,
        row.unit_name,
        row.ballots,
        row.counted,
        row.masses,
        [Indicator(code, numerator, denominator) for code, numerator, denominator in row.indicators],
        row.process,
        row.combined,
        row.grade,
        row.rank,
        getattr(row, "scope_rank", None),
        unit_id=row.unit_id,
    )


def unit_of(row: Score) -> UnitScore:
    return UnitScore(
        row.unit_id,
        row.name,
        row.cadres,
        row.ballots,
        row.counted,
        row.masses,
        row.process,
        row.combined,
        row.grade,
        row.rank,
        getattr(row, "scope_rank", None),
    )


def stored(round_: Round, kind: str, ids, *, limit: int | None = None):
    """Stored scores of these cadres or units (ids: a list, a subquery, or None for the whole round),
    ranked within that part too."""
    field = "cadre_id" if kind == Score.Kind.CADRE else "unit_id"
    rows = Score.objects.filter(round=round_, kind=kind).order_by(F("rank").asc(nulls_last=True), field)
    if ids is None:  # the whole round: its own ranks, read along the (round, kind, rank) index
        rows = rows.annotate(scope_rank=F("rank"))
    else:
        rows = rows.filter(**{f"{field}__in": ids}).annotate(
            scope_rank=Window(Rank(), order_by=F("combined").desc(nulls_last=True))
        )
    rows = list(rows[:limit] if limit else rows)
    convert = cadre_of if kind == Score.Kind.CADRE else unit_of
    result = [convert(row) for row in rows]
    for score in result:
        if score.combined is None:
            score.scope_rank = None
    return result


def _cadre_score(round_: Round, cadre_id: int) -> CadreScore:
    if round_.scored_at:
        row = Score.objects.filter(round=round_, kind=Score.Kind.CADRE, cadre_id=cadre_id).first()
        if row is not None:
            return cadre_of(row)
    return next(s for s in round_scores(round_) if s.cadre_id == cadre_id)


def explain(round_: Round, cadre_id: int) -> dict:
    """What a cadre's score is made of: the formula, every ballot counted (households masked), and
    each indicator with its definition and figures."""
    score = _cadre_score(round_, cadre_id)
    weights = scored_weights(round_)
    ballots = []
    for ballot in (
        Ballot.objects.filter(round=round_, sample__cadre_id=cadre_id)
        .select_related("household__village")
        .order_by("collected_at", "pk")
    ):
        answered = []
        for code, (weight, scores) in weights.items():
            value = ballot.answers.get(code)
            answered.append({"value": value, "score": scores.get(value), "weight": weight})
        ballots.append(
            {
                "household": f"{mask(ballot.household.head_name)}户（{ballot.household.village.name}）",
                "collected_on": timezone.localdate(ballot.collected_at),
                "mode": ballot.get_mode_display(),
                "answers": answered,
                "counted": any(a["score"] is not None for a in answered),
            }
        )
    return {
        "score": score,
        "formula": (
            f"综合得分 = 群众评议得分 × {round_.weight_masses}% + 过程指标得分 × {round_.weight_process}%"
        ),
        "masses_rule": "群众评议得分 = 各票计分题得分的加权平均（“不了解”不计入）",
        "process_rule": "过程指标得分 = "
        + "、".join(name for name, *_rest in INDICATORS.values())
        + "四项的平均值",
        "ballots": ballots,
        "caution": score.caution,
    }
