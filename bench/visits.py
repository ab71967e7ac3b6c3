"""Time visit entry, the visit lists and the worklists at province scale (server side).

Prints, per step, the median and worst of several runs, the query count, and the plan of the
heaviest query. Run through bench/visits.sh, which keeps its PostgreSQL cluster between runs so the
generated data (~2.5 min for the base, a few minutes for ~4M visits at scale 1.0) is reused.
"""

import datetime
import os
import statistics
import sys
import time
import uuid

import _pages  # first: sets Django up
from django.db import connection
from django.test.utils import CaptureQueriesContext

AS_OF = "2025-12-31"  # the generated year of visits is 2025
WIDTH = 44
# Fewer runs where a page may take seconds (the live counts before the tallies).
RUNS_BY_ROLE = {"city": 3, "province": 3}


def ensure_data(scale: float):
    from demo.province import generate_contacts_away, generate_visits
    from visits.models import Visit

    if not _pages.generate_province_if_empty(scale):
        if Visit.objects.exists():
            print("reusing the data already in the database")
            if (
                os.environ.get("BENCH_CONTACTS_AWAY") == "1"
                and not Visit.objects.filter(mode="短信").exists()
            ):
                # A database generated before the text messages to households working away: add them (~1.2M).
                with _pages.timed("text messages to households working away added"):
                    generate_contacts_away()
        else:
            with _pages.timed("visits generated"):
                generate_visits()
    # What autovacuum does in production: statistics, and the visibility map for index-only scans.
    _pages.analyze(vacuum=True)


def time_rebuild():
    """The tallies recounted from every visit (what `manage.py rebuild_visit_tallies` does)."""
    from visits import tallies

    began = time.perf_counter()
    written = tallies.rebuild()
    print(f"tallies rebuilt from every visit in {time.perf_counter() - began:.1f} s: {written}")
    _pages.analyze(vacuum=True)


def time_saves(user, township):
    """services.record_visit for open pairings of the township, dated today (the generated year is 2025)."""
    from pairing.models import Pairing
    from visits import tallies
    from visits.models import Visit
    from visits.services import record_visit

    pairings = list(
        Pairing.objects.open()
        .filter(household__village__code__startswith=township.prefix)
        .select_related("household", "cadre")[: _pages.RUNS * 3]
    )
    today = datetime.date.today()
    timings, saved = [], []
    for pairing in pairings:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            visit = record_visit(
                household=pairing.household,
                cadre=pairing.cadre,
                visited_on=today,
                by=user,
                submission_key=uuid.uuid4(),
                mode="入户走访",
                task_policy=True,
                diary="基准测试",
            )
            timings.append((time.perf_counter() - began) * 1000)
        saved.append(visit.pk)
    Visit.objects.filter(pk__in=saved).delete()
    tallies.rebuild(household_ids=[p.household_id for p in pairings])  # the deleted visits out of the tallies
    print(_pages.timing_row("record_visit (service)", WIDTH, timings, len(queries)))
    _pages.figure("record_visit.median", round(statistics.median(timings), 1), "ms")
    _pages.figure("record_visit.queries", len(queries), "queries")
    heaviest = _pages.heaviest_query(queries)
    print(f"    heaviest query {float(heaviest['time']) * 1000:.1f} ms: {heaviest['sql'][:100]}")


def main(scale: float):
    _pages.prepare_database()
    ensure_data(scale)

    from households.models import Household
    from pairing.models import Pairing, Unit
    from visits.models import Visit

    scopes = _pages.pick_scopes()
    county, township = scopes["county"], scopes["township"]
    unit = Unit.objects.get(
        pk=Pairing.objects.filter(household__village__code__startswith=township.prefix).values_list(
            "cadre__unit_id", flat=True
        )[:1][0]
    )
    city = county.parent
    users = _pages.bench_users(scopes) | {
        "unit": _pages.bench_user("unit", unit=unit),
        "city": _pages.bench_user("city", region=city),
    }
    only = os.environ.get("BENCH_ONLY")  # e.g. BENCH_ONLY=worklist to time just the worklists
    if os.environ.get("BENCH_REBUILD", "1") == "1":
        time_rebuild()
    print(
        f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
        f"{Visit.objects.count():,} visits; city {city.name}, county {county.name}, "
        f"township {township.name}, unit {unit.name}"
    )
    print(_pages.table_heading("step", WIDTH))
    time_saves(users["township"], township)
    pages = [
        ("township visit list", "township", "/visits/"),
        ("township visit list, one month", "township", "/visits/?month=2025-12"),
        ("county visit list", "county", "/visits/"),
        ("township unit visit list", "township", "/visits/unit-visits/"),
    ]
    for role in ("township", "unit", "county", "city", "province"):
        # A city's or the province's summary is cached: ?refresh=1 on every run times the recount.
        wide = role in ("city", "province")
        summary = f"/visits/worklists/?on={AS_OF}" + ("&refresh=1" if wide else "")
        pages.append((f"{role} worklists (4 counts){', recount' if wide else ''}", role, summary))
        if wide:
            pages.append((f"{role} worklists (4 counts), cached", role, f"/visits/worklists/?on={AS_OF}"))
        for kind in ("stale", "quarter", "cadres", "units"):
            pages.append((f"{role} worklist {kind}", role, f"/visits/worklists/{kind}/?on={AS_OF}"))
            if wide:  # shown per county (cached like the summary): the recount, and one county's live list
                pages.append(
                    (
                        f"{role} worklist {kind}, recount",
                        role,
                        f"/visits/worklists/{kind}/?on={AS_OF}&refresh=1",
                    )
                )
                pages.append(
                    (
                        f"{role} worklist {kind}, one county",
                        role,
                        f"/visits/worklists/{kind}/?on={AS_OF}&region={county.code}",
                    )
                )
    for label, role, url in pages:
        if only and only not in label:
            continue
        page = _pages.time_page(users[role], url, runs=RUNS_BY_ROLE.get(role, _pages.RUNS))
        print(page.row(label, WIDTH))
        # Issue 18: a township's visit list and worklists under 50 ms.
        _pages.page_figure(
            _pages.slug(label), page, "<50" if role == "township" and "unit visit" not in label else None
        )
        print(_pages.heaviest_heading(page.heaviest_query))
        if _pages.explain_wanted():
            _pages.print_plan(page.heaviest_query["sql"], first_lines=14)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
