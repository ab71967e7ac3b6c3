"""Time the coverage pages at province scale (server side, through Django's test client).

Prints, per page, the median and worst of several renders, the query count, and
the plan of the heaviest query. Run through bench/coverage.sh, which starts a
throwaway PostgreSQL cluster; any DATABASE_URL works if you call it directly.
"""

import sys

import _pages  # first: sets Django up
from django.db import connection


def main(scale: float):
    _pages.prepare_database()
    if not _pages.generate_province_if_empty(scale):
        print("reusing the data already in the database")
    _pages.analyze()

    from households.models import Household

    scopes = _pages.pick_scopes()
    county, township = scopes["county"], scopes["township"]
    users = _pages.bench_users(scopes)
    print(f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households")
    print(_pages.table_heading("page", 34))
    for label, role, url, goal in [
        # Goals from issue 18: counted live, not from the cache.
        ("province coverage, counted", "province", "/coverage/620000000000/?refresh=1", "<1000"),
        ("province coverage, cached", "province", "/coverage/620000000000/", None),
        (f"county coverage ({county.name})", "county", f"/coverage/{county.code}/", "<200"),
        (f"township coverage ({township.name})", "township", f"/coverage/{township.code}/", "<50"),
        ("township unpaired list", "township", f"/coverage/{township.code}/unpaired/", None),
        ("province home", "province", "/", None),
        ("county household list", "county", "/households/", None),
    ]:
        page = _pages.time_page(users[role], url)
        print(page.row(label, 34))
        _pages.page_figure(_pages.slug(label), page, goal)
        if _pages.explain_wanted():
            print(_pages.heaviest_heading(page.heaviest_query))
            _pages.print_plan(page.heaviest_query["sql"], first_lines=12)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
