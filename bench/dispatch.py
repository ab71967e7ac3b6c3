"""Time the quarterly ranking (季调度) at scale: the province's ranking of its 86 counties and its
province-level units, for the generated year's last quarter (with last quarter's ranks).

Prints median and worst times and query counts of dispatch.rankings() and of the province and
county dispatch pages, and the plan of the heaviest query (BENCH_EXPLAIN=0 skips it). Demands due in
the generated year's second half are made first (half closed in time, a quarter late, a quarter open).
Run through bench/dispatch.sh. Goal at scale 1.0: the province ranking < 2 s.
"""

import datetime
import random
import statistics
import sys
import time

import _pages  # first: sets Django up
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

BATCH = 5000


def make_demands(user, year: int) -> int:
    from demands.models import Demand, DemandAction
    from pairing.models import Pairing

    rng = random.Random(13)
    households = (
        Pairing.objects.open().order_by("household_id").values_list("household_id", flat=True).distinct()
    )
    made = 0
    batch = []

    def flush():
        nonlocal made
        chunk = Demand.objects.bulk_create([demand for demand, _closed in batch])
        actions = []
        for demand, closed in zip(chunk, (closed for _d, closed in batch), strict=True):
            if closed is not None:
                moment = timezone.make_aware(datetime.datetime.combine(closed, datetime.time(10)))
                actions.append(
                    DemandAction(demand=demand, kind="办结", from_level="干部", by=user, at=moment)
                )
        DemandAction.objects.bulk_create(actions)
        made += len(chunk)
        batch.clear()

    for household_id in households.iterator(chunk_size=BATCH):
        if rng.random() > 0.3:
            continue
        due = datetime.date(year, 7, 1) + datetime.timedelta(days=rng.randrange(184))
        fate = rng.random()
        closed = (
            due - datetime.timedelta(days=2)
            if fate < 0.5
            else due + datetime.timedelta(days=5)
            if fate < 0.75
            else None
        )
        demand = Demand(
            household_id=household_id,
            raised_on=due - datetime.timedelta(days=15),
            category="住房",
            text="bench",
            status="已解决" if closed else "待办",
            raised_by=user,
            due_on=due,
        )
        batch.append((demand, closed))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return made


def main(scale: float):
    _pages.prepare_database()
    from accounts.models import User
    from demands.models import Demand
    from demo.province import VISIT_YEAR
    from households.models import Household
    from reports import dispatch
    from reports.dispatch import Quarter
    from visits.models import Visit

    _pages.generate_province_if_empty(scale, done="generated the province")
    admin = User.objects.update_or_create(username="bench_admin", defaults={"is_superuser": True})[0]
    if not Demand.objects.filter(due_on__year=VISIT_YEAR).exists():
        began = time.perf_counter()
        print(f"made {make_demands(admin, VISIT_YEAR):,} demands in {time.perf_counter() - began:.1f} s")
    _pages.analyze()
    quarter = Quarter(VISIT_YEAR, 4)
    print(
        f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
        f"{Visit.objects.count():,} visits, {Demand.objects.count():,} demands; {quarter.label}"
    )
    print(_pages.table_heading("ranking", 40))
    timings, by_query = [], {}
    for _run in range(_pages.RUNS):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            rankings = dispatch.rankings("62", "province", quarter)
            timings.append((time.perf_counter() - began) * 1000)
    rows = sum(len(r.rows) for r in rankings)
    print(_pages.timing_row(f"province rankings() ({rows} rows)", 40, timings, len(queries)))
    _pages.figure("dispatch.province_ranking.median", round(statistics.median(timings), 1), "ms", "<2000")
    _pages.figure("dispatch.province_ranking.queries", len(queries), "queries")
    heaviest = _pages.heaviest_query(queries)
    for query in queries.captured_queries:
        by_query.setdefault(query["sql"][:60], []).append(float(query["time"]) * 1000)
    for head, times in sorted(by_query.items(), key=lambda item: -sum(item[1]))[:8]:
        print(f"    {sum(times):8.1f} ms  {head}")

    users = _pages.bench_users(_pages.pick_scopes())
    for label, role, query in (
        ("province dispatch page, recount", "province", "&refresh=1"),
        ("province dispatch page, cached", "province", ""),
        ("county dispatch page", "county", ""),
    ):
        page = _pages.time_page(users[role], f"/reports/dispatch/?quarter={quarter}{query}")
        print(page.row(label, 40))
        _pages.page_figure(_pages.slug(label), page)
    print(
        f"median of the province ranking: {statistics.median(timings) / 1000:.2f} s (goal < 2 s at scale 1.0)"
    )
    if _pages.explain_wanted():
        print(_pages.heaviest_heading(heaviest))
        _pages.print_plan(heaviest["sql"], first_lines=24)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.1)
