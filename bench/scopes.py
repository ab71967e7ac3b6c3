"""Time every township page, and the county's, on the data bench/visits.sh generated (issue 18).

A township's pages must cost what its township holds, not what the province holds. Prints the median
and worst of several runs, the query count, and the rows the page's scans read (EXPLAIN ANALYZE of
every query it made, as the planner chose: a count the machine's load does not blur), and with
BENCH_EXPLAIN=1 the plan of each page's heaviest query. Run through bench/scopes.sh, which reuses
bench/visits.sh's cluster.
"""

import os
import sys

import _pages  # first: sets Django up

from tests.plans import explain, rows_read

AS_OF = "2025-12-31"
WIDTH = 44
PAGES = [
    ("home", "/?refresh=1"),
    ("visit list", "/visits/"),
    ("visit entry", "/visits/new/"),
    ("worklists (4 counts)", f"/visits/worklists/?on={AS_OF}"),
    *(
        (f"worklist {kind}", f"/visits/worklists/{kind}/?on={AS_OF}")
        for kind in ("stale", "quarter", "cadres", "units")
    ),
    ("households", "/households/"),
    ("cadres", "/cadres/"),
    ("coverage", "/coverage/"),
    ("demands", "/demands/"),
]


def main(scale: float):
    from households.models import Household
    from visits.models import Visit

    _pages.prepare_database()
    visits = Visit.objects.exists()
    if _pages.generate_province_if_empty(scale) or not visits:
        from demo.province import generate_visits

        if not Visit.objects.exists():
            generate_visits()
    _pages.analyze(vacuum=True)
    scopes = _pages.pick_scopes()
    users = _pages.bench_users(scopes)
    print(
        f"\nscale {scale}: {Household.objects.count():,} households, {Visit.objects.count():,} visits; "
        f"county {scopes['county'].name}, township {scopes['township'].name}"
    )
    print(_pages.table_heading("page", WIDTH) + f"{'rows read':>12}")
    only = os.environ.get("BENCH_ONLY")
    for role in ("township", "county"):
        for label, url in PAGES:
            label = f"{role} {label}"
            if (only and only not in label) or (
                role == "county" and "entry" in label
            ):  # townships enter visits
                continue
            page = _pages.time_page(users[role], url)
            read = sum(
                sum(rows_read(explain(query["sql"], probing=False)).values())
                for query in page.queries.captured_queries
                if query["sql"].lstrip().upper().startswith("SELECT")
            )
            print(page.row(label, WIDTH) + f"{read:>12,}")
            name = "scopes." + _pages.slug(label)
            _pages.page_figure(name, page)
            _pages.figure(f"{name}.rows_read", read, "rows")
            if _pages.explain_wanted(default="0"):
                print(_pages.heaviest_heading(page.heaviest_query))
                _pages.print_plan(page.heaviest_query["sql"], first_lines=14)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
