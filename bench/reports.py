"""Time the monthly report (月报告) computed live and the status board at province scale.

Targets (issue 13, PostgreSQL, scale 1.0): the province's report < 1 s, a county's < 200 ms, a
township's < 50 ms, the province's status board < 300 ms. Prints per step the median and worst of
several runs, the query count, and the plan of the heaviest query. Run through bench/reports.sh,
which keeps its PostgreSQL cluster between runs so the generated data is reused.
"""

import datetime
import os
import statistics
import sys
import time

import _pages  # first: sets Django up
from django.db import connection
from django.test.utils import CaptureQueriesContext

MONTH = datetime.date(2025, 6, 1)  # a month of the generated year of visits
WIDTH = 40
# Issue 13's goals at scale 1.0, milliseconds (FIGURE lines for bench/run.sh).
GOALS = {"township": "<50", "county": "<200", "province": "<1000"}


def time_compute(office, runs: int):
    """reports.figures.compute for the office: every figure of the month and year, and its rows."""
    from reports import figures

    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            figures.compute(office, MONTH)
            timings.append((time.perf_counter() - began) * 1000)
    return timings, queries


def main(scale: float):
    _pages.prepare_database()
    if not _pages.generate_province_if_empty(scale):
        print("reusing the data already in the database")
    _pages.analyze(vacuum=True)
    from households.models import Household, Region
    from reports.offices import Office
    from visits.models import VillageMonthTally, Visit

    scopes = _pages.pick_scopes()
    print(
        f"{connection.vendor}: {Household.objects.count()} households, {Visit.objects.count()} visits, "
        f"{VillageMonthTally.objects.count()} village-month tallies"
    )
    print(_pages.table_heading("monthly report computed live", WIDTH))
    heaviest = None
    for role, runs in (("township", 7), ("county", 5), ("province", 3)):
        region = scopes[role]
        timings, queries = time_compute(Office(region=region), runs)
        print(_pages.timing_row(f"{role} {region.name}", WIDTH, timings, len(queries)))
        _pages.figure(
            f"monthly_report.{role}.median", round(statistics.median(timings), 1), "ms", GOALS[role]
        )
        _pages.figure(f"monthly_report.{role}.queries", len(queries), "queries")
        if os.environ.get("BENCH_SLOWEST"):
            for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:6]:
                print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
        query = _pages.heaviest_query(queries)
        if heaviest is None or float(query["time"]) > float(heaviest["time"]):
            heaviest = query
    users = _pages.bench_users(
        {"province": Region.objects.get(code=_pages.PROVINCE), "county": scopes["county"]}
    )
    for role, user in users.items():
        page = _pages.time_page(user, f"/reports/board/?month={MONTH:%Y-%m}")
        print(page.row(f"status board {role}", WIDTH))
        _pages.page_figure(f"status_board.{role}", page, "<300" if role == "province" else None)
    county = scopes["county"]
    page = _pages.time_page(
        users["county"], f"/reports/monthly/{county.code}/{MONTH.year}/{MONTH.month}/", runs=3
    )
    print(page.row("county report page", WIDTH))
    _pages.page_figure("monthly_report.county_page", page)
    if _pages.explain_wanted():
        print(_pages.heaviest_heading(heaviest))
        print("      " + heaviest["sql"][:400])
        _pages.print_plan(heaviest["sql"], 25)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
