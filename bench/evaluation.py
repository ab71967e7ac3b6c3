"""Time the mass evaluation at province scale (server side, test client).

Generates the province, opens a province round drawing 20% of each village's paired poor
households, gives every sampled household a ballot (bulk written: bench data, random answers
spaced 20 minutes apart per collector), then times computing and storing every cadre's and unit's
score (the goal: < 10 s at 80k ballots), looking for integrity flags, and the score pages for
province, county and township users (goal: < 300 ms). Run through bench/evaluation.sh.
"""

import datetime
import random
import sys
import time

import _pages  # first: sets Django up
from django.db import connection
from django.utils import timezone

BATCH = 5000


def _ballots(round_, collectors):
    from evaluation.models import Ballot, SampledHousehold

    rng = random.Random(1)
    start = timezone.now() - datetime.timedelta(days=5)
    rows = list(round_.samples.values_list("pk", "household_id").order_by("pk"))
    batch = []
    for index, (sample_id, household_id) in enumerate(rows):
        collector = collectors[index % len(collectors)]
        answers = {
            "satisfaction": rng.choices(["满意", "基本满意", "不满意", "不了解"], [60, 28, 6, 6])[0],
            "visits": rng.choice(["1–2次", "3–5次", "6次以上"]),
            "violation": "有" if rng.random() < 0.001 else "无",
        }
        if answers["violation"] == "有":
            answers["violation__text"] = "收过礼品"
        if rng.random() < 0.7:
            answers["deeds"] = [rng.choice(["产业发展", "务工就业", "危房改造", "看病就医"])]
        batch.append(
            Ballot(
                round=round_,
                household_id=household_id,
                sample_id=sample_id,
                collector=collector,
                collected_at=start + datetime.timedelta(minutes=20 * (index // len(collectors))),
                mode="入户",
                answers=answers,
            )
        )
        if len(batch) == BATCH:
            Ballot.objects.bulk_create(batch)
            batch = []
    Ballot.objects.bulk_create(batch)
    SampledHousehold.objects.filter(round=round_).update(status=SampledHousehold.Status.COLLECTED)
    return len(rows)


def main(scale: float):
    _pages.prepare_database()
    from accounts.models import User
    from evaluation import flags, services
    from evaluation.models import Ballot, Round, SampledHousehold, Score
    from households.models import Region

    _pages.generate_province_if_empty(scale)
    _pages.analyze()
    scopes = _pages.pick_scopes()
    users = _pages.bench_users(scopes)
    office = users["province"]
    today = timezone.localdate()
    round_ = Round.objects.filter(name="省级群众评议（测试）").first()
    if round_ is None:
        with _pages.timed("opened the province round and drew 20% of each village"):
            round_ = services.open_round(
                by=office,
                region=Region.objects.get(code=_pages.PROVINCE),
                name="省级群众评议（测试）",
                year=today.year,
                starts_on=today - datetime.timedelta(days=10),
                ends_on=today + datetime.timedelta(days=10),
                sample_method=Round.SampleMethod.PER_VILLAGE,
                sample_parameter=20,
                seed=2026,
            )
        collectors = []
        for n in range(50):
            account = User.objects.update_or_create(username=f"bench_collector_{n}", defaults={"role": ""})[0]
            collectors.append(
                services.register_collector(
                    by=office, user=account, region=round_.region, kind="志愿者", name=f"采集员{n}"
                )
            )
        SampledHousehold.objects.filter(round=round_).update(collector=collectors[0])
        with _pages.timed("wrote a ballot for every sampled household"):
            _ballots(round_, collectors)
        _pages.analyze()
    ballots = Ballot.objects.filter(round=round_).count()
    print(f"\n{connection.vendor}, scale {scale}: {ballots:,} ballots in the round")
    for label, slug, goal, work in (
        (
            "computed and stored every score",
            "scores.compute",
            "<10",
            lambda: services.compute_scores(by=office, round_=round_),
        ),
        ("looked for integrity flags", "flags.find", None, lambda: flags.find(round_)),
    ):
        began = time.perf_counter()
        result = work()
        took = time.perf_counter() - began
        size = result if isinstance(result, tuple) else f"{len(result)} flags"
        print(f"{label}: {took:.2f} s ({size})")
        _pages.figure(slug, round(took, 2), "s", goal)
    _pages.analyze()
    round_.refresh_from_db()
    cadre = Score.objects.filter(round=round_, kind="干部", combined__isnull=False).order_by("rank").first()
    unit = (
        Score.objects.filter(round=round_, kind="单位", combined__isnull=False).order_by("-ballots").first()
    )
    print(_pages.table_heading("page", 40))
    for role in ("province", "county", "township"):
        page = _pages.time_page(users[role], f"/evaluation/{round_.pk}/")
        print(page.row(f"{role} round page (results)", 40))
        _pages.page_figure(f"{role}.round_page", page, "<300")
        if _pages.explain_wanted("0"):
            print(_pages.heaviest_heading(page.heaviest_query))
            _pages.print_plan(page.heaviest_query["sql"], first_lines=12)
    for label, url in (
        ("province cadre's explained score", f"/evaluation/{round_.pk}/cadres/{cadre.cadre_id}/"),
        ("province unit's explained score", f"/evaluation/{round_.pk}/units/{unit.unit_id}/"),
        ("county print view", f"/evaluation/{round_.pk}/print/"),
    ):
        user = users["county"] if label.startswith("county") else users["province"]
        page = _pages.time_page(user, url)
        print(page.row(label, 40))
        _pages.page_figure(_pages.slug(label), page, "<300")
        if _pages.explain_wanted("0"):
            print(_pages.heaviest_heading(page.heaviest_query))
            _pages.print_plan(page.heaviest_query["sql"], first_lines=8)
    page = _pages.time_page(users["county"], f"/evaluation/{round_.pk}/results/", runs=2)
    print(page.row("county results workbook", 40))
    _pages.page_figure("county.results_workbook", page)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
