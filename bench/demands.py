"""Time the ledger pages and escalate_overdue with one demand per paired household.

Prints median and worst server-side render times and query counts of the ledger for the
province, a county and a township, the "overdue at my level" worklist, and the duration of
escalate_overdue (first run and the idempotent second run). Run through bench/demands.sh.
"""

import datetime
import os
import random
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
from django.utils import timezone  # noqa: E402

RUNS = 7
BATCH = 5000


def make_demands(user):
    from demands.models import LEVEL_ORDER, Demand, DemandAction
    from pairing.models import Pairing

    rng = random.Random(6)
    today = timezone.localdate()
    households = Pairing.objects.open().responsible().order_by("household_id").values_list("household_id", flat=True)
    demands = []
    for household_id in households.iterator(chunk_size=BATCH):
        raised = today - datetime.timedelta(days=rng.randrange(365))
        status = rng.choice(Demand.Status.values)
        overdue = rng.random() < 0.2
        demands.append(Demand(
            household_id=household_id, raised_on=raised, category=rng.choice(Demand.Category.values),
            text="bench", level=rng.choice(LEVEL_ORDER), status=status, raised_by=user,
            due_on=today - datetime.timedelta(days=2) if overdue else today + datetime.timedelta(days=10),
        ))
    for start in range(0, len(demands), BATCH):
        chunk = Demand.objects.bulk_create(demands[start:start + BATCH])
        DemandAction.objects.bulk_create(
            DemandAction(demand=d, kind="提出", from_level="干部", by=user) for d in chunk
        )
    return len(demands)


def main(scale: float):
    setup_test_environment()
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from demands.models import Demand
    from households.models import Household, Region

    if not Household.objects.exists():
        started = time.perf_counter()
        call_command("generate_province", scale=scale, verbosity=1)
        print(f"generated the province in {time.perf_counter() - started:.1f} s")
    admin = User.objects.update_or_create(username="bench_admin", defaults={"is_superuser": True})[0]
    if not Demand.objects.exists():
        started = time.perf_counter()
        count = make_demands(admin)
        print(f"made {count:,} demands in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    county = Region.objects.filter(level="county", is_poor=True).order_by("code").first()
    village = Household.objects.filter(village__code__startswith=county.prefix).values_list("village_id", flat=True)[0]
    scopes = {
        "province": Region.objects.get(code="620000000000"), "county": county,
        "township": Region.objects.get(code=village[:9] + "000"),
    }
    users = {
        role: User.objects.update_or_create(username=f"bench_{role}", defaults={"role": role, "region": region})[0]
        for role, region in scopes.items()
    }
    print(f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
          f"{Demand.objects.count():,} demands, {Demand.objects.overdue().count():,} overdue")
    print(f"{'page':<34}{'median ms':>10}{'worst ms':>10}{'queries':>9}")
    for label, username, url in [
        ("province ledger", "province", "/demands/"),
        ("county ledger", "county", "/demands/"),
        ("township ledger", "township", "/demands/"),
        ("county ledger, 教育, overdue", "county", "/demands/?category=教育&overdue=on"),
        ("county overdue at my level", "county", "/demands/?mine=on&overdue=on"),
        ("township overdue at my level", "township", "/demands/?mine=on&overdue=on"),
        ("township export .xlsx", "township", "/demands/export.xlsx"),
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
        if os.environ.get("BENCH_EXPLAIN") == "1":
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + heaviest["sql"])
                for row in cursor.fetchall()[:14]:
                    print("      " + row[0])

    for run in ("first", "second"):
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            call_command("escalate_overdue", verbosity=0)
        print(f"escalate_overdue, {run} run: {(time.perf_counter() - began) * 1000:.0f} ms, {len(queries)} queries")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.25)
