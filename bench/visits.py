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
AS_OF = "2025-12-31"  # the generated year of visits is 2025


def ensure_data(scale: float):
    from demo.province import generate_visits
    from households.models import Household
    from visits.models import Visit

    if not Household.objects.exists():
        started = time.perf_counter()
        call_command("generate_province", scale=scale, verbosity=1)
        print(f"generated in {time.perf_counter() - started:.1f} s")
    elif not Visit.objects.exists():
        started = time.perf_counter()
        generate_visits()
        print(f"visits generated in {time.perf_counter() - started:.1f} s")
    else:
        print("reusing the data already in the database")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does in production: statistics, and the visibility map for index-only scans.
            cursor.execute("VACUUM ANALYZE")


def explain(sql: str, params=None):
    if connection.vendor != "postgresql" or os.environ.get("BENCH_EXPLAIN", "1") != "1":
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    for line in plan[:14] + plan[-1:]:
        print("      " + line)


def time_saves(user, township):
    """services.record_visit for open pairings of the township, dated today (the generated year is 2025)."""
    from pairing.models import Pairing
    from visits.models import Visit
    from visits.services import record_visit

    pairings = list(Pairing.objects.open().filter(household__village__code__startswith=township.prefix)
                    .select_related("household", "cadre")[:RUNS * 3])
    today = datetime.date.today()
    timings, saved = [], []
    for pairing in pairings:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            visit = record_visit(household=pairing.household, cadre=pairing.cadre, visited_on=today, by=user,
                                 submission_key=uuid.uuid4(), mode="入户走访", task_policy=True, diary="基准测试")
            timings.append((time.perf_counter() - began) * 1000)
        saved.append(visit.pk)
    Visit.objects.filter(pk__in=saved).delete()
    print(f"{'record_visit (service)':<44}{statistics.median(timings):>10.1f}{max(timings):>10.1f}{len(queries):>9}")
    heaviest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    print(f"    heaviest query {float(heaviest['time']) * 1000:.1f} ms: {heaviest['sql'][:100]}")


def time_page(label, user, url):
    client = Client()
    client.force_login(user)
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    heaviest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    print(f"{label:<44}{statistics.median(timings):>10.1f}{max(timings):>10.1f}{len(queries):>9}")
    print(f"    heaviest query {float(heaviest['time']) * 1000:.1f} ms; plan (first lines):")
    explain(heaviest["sql"])


def main(scale: float):
    setup_test_environment()
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    ensure_data(scale)

    from accounts.models import User
    from households.models import Household, Region
    from pairing.models import Pairing, Unit
    from visits.models import Visit

    county = Region.objects.filter(level="county", is_poor=True).order_by("code").first()
    busiest = Household.objects.filter(village__code__startswith=county.prefix).values_list("village_id", flat=True)[:1]
    township = Region.objects.get(code=busiest[0][:9] + "000")
    unit = Unit.objects.get(pk=Pairing.objects.filter(household__village__code__startswith=township.prefix)
                            .values_list("cadre__unit_id", flat=True)[:1][0])
    users = {
        "province": User.objects.update_or_create(username="bench_province", defaults={
            "role": "province", "region": Region.objects.get(code="620000000000")})[0],
        "county": User.objects.update_or_create(username="bench_county", defaults={"role": "county", "region": county})[0],
        "township": User.objects.update_or_create(username="bench_township", defaults={
            "role": "township", "region": township})[0],
        "unit": User.objects.update_or_create(username="bench_unit", defaults={"role": "unit", "unit": unit})[0],
    }
    print(f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
          f"{Visit.objects.count():,} visits; county {county.name}, township {township.name}, unit {unit.name}")
    print(f"{'step':<44}{'median ms':>10}{'worst ms':>10}{'queries':>9}")
    time_saves(users["township"], township)
    pages = [
        ("township visit list", "township", "/visits/"),
        ("township visit list, one month", "township", "/visits/?month=2025-12"),
        ("county visit list", "county", "/visits/"),
        ("township unit visit list", "township", "/visits/unit-visits/"),
    ]
    for role in ("township", "unit", "county"):
        pages.append((f"{role} worklists (4 counts)", role, f"/visits/worklists/?on={AS_OF}"))
        for kind in ("stale", "quarter", "cadres", "units"):
            pages.append((f"{role} worklist {kind}", role, f"/visits/worklists/{kind}/?on={AS_OF}"))
    pages.append(("province worklists (4 counts)", "province", f"/visits/worklists/?on={AS_OF}"))
    for label, role, url in pages:
        time_page(label, users[role], url)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
