"""Time the coverage pages at province scale (server side, through Django's test client).

Prints, per page, the median and worst of several renders, the query count, and
the plan of the heaviest query. Run through bench/coverage.sh, which starts a
throwaway PostgreSQL cluster; any DATABASE_URL works if you call it directly.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shuanglian.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

RUNS = 7


def main(scale: float):
    setup_test_environment()
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    from households.models import Household

    if Household.objects.exists():
        print("reusing the data already in the database")
    else:
        started = time.perf_counter()
        call_command("generate_province", scale=scale, verbosity=1)
        print(f"generated in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    from accounts.models import User
    from households.models import Region

    county = Region.objects.filter(level="county", is_poor=True).order_by("code").first()
    busiest = Household.objects.filter(village__code__startswith=county.prefix).values_list("village_id", flat=True)[:1]
    township = Region.objects.get(code=busiest[0][:9] + "000")
    scopes = {"province": Region.objects.get(code="620000000000"), "county": county, "township": township}
    users = {
        role: User.objects.update_or_create(username=f"bench_{role}", defaults={"role": role, "region": region})[0]
        for role, region in scopes.items()
    }
    print(f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households")
    print(f"{'page':<34}{'median ms':>10}{'worst ms':>10}{'queries':>9}")
    for label, username, url in [
        ("province coverage, counted", "province", "/coverage/620000000000/?refresh=1"),
        ("province coverage, cached", "province", "/coverage/620000000000/"),
        (f"county coverage ({county.name})", "county", f"/coverage/{county.code}/"),
        (f"township coverage ({township.name})", "township", f"/coverage/{township.code}/"),
        ("township unpaired list", "township", f"/coverage/{township.code}/unpaired/"),
        ("province home", "province", "/"),
        ("county household list", "county", "/households/"),
    ]:
        client = Client()
        client.force_login(users[username])
        timings = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        heaviest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        print(f"{label:<34}{statistics.median(timings):>10.1f}{max(timings):>10.1f}{len(queries):>9}")
        if connection.vendor == "postgresql" and os.environ.get("BENCH_EXPLAIN", "1") == "1":
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + heaviest["sql"])
                plan = [row[0] for row in cursor.fetchall()]
            print(f"    heaviest query {float(heaviest['time']) * 1000:.1f} ms; plan (first lines):")
            for line in plan[:12] + plan[-1:]:
                print("      " + line)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
