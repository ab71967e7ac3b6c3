"""Time the household list filtered by 「有底线预警」 at province scale (server side, test client).

generate_province makes households without members, so this script first adds
three synthetic members to every household in one INSERT ... SELECT (bench data
only: their ID numbers are not valid IDs), with some children out of school, some
seriously ill without 新农合, and incomes from the generator. Run through
bench/floors.sh, which starts a throwaway PostgreSQL cluster.
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

MEMBERS_SQL = """
INSERT INTO households_member
  (household_id, name, id_number, relation, sex, birth_date, ethnicity, education, schooling, health,
   disability, labour, has_medical_insurance, has_pension_insurance)
SELECT h.id, '成员', lpad((h.id * 3 + k)::text, 17, '0') || 'B',
       CASE WHEN k = 0 THEN '户主' ELSE '之子' END, 'M',
       CASE WHEN k = 0 THEN date '1975-05-04' - (h.id % 3000)::int
            ELSE date '2012-01-01' + ((h.id * 7 + k * 311) % 3650)::int END,
       '汉族', '', CASE WHEN k > 0 AND (h.id + k) % 13 = 0 THEN '非在校生' ELSE '小学' END,
       CASE WHEN (h.id + k) % 17 = 0 THEN '患有大病' ELSE '健康' END, '', '', h.id % 29 <> 0, false
FROM households_household h CROSS JOIN generate_series(0, 2) AS k
"""


def main(scale: float):
    setup_test_environment()
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from households.models import Household, Member, Region

    if not Household.objects.exists():
        started = time.perf_counter()
        call_command("generate_province", scale=scale, verbosity=1)
        print(f"generated in {time.perf_counter() - started:.1f} s")
    if not Member.objects.exists():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(MEMBERS_SQL)
        print(f"added members in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    county = Region.objects.filter(level="county", is_poor=True).order_by("code").first()
    village = Household.objects.filter(village__code__startswith=county.prefix).values_list("village_id", flat=True)[:1]
    township = Region.objects.get(code=village[0][:9] + "000")
    scopes = {"province": Region.objects.get(code="620000000000"), "county": county, "township": township}
    users = {
        role: User.objects.update_or_create(username=f"bench_{role}", defaults={"role": role, "region": region})[0]
        for role, region in scopes.items()
    }
    print(f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
          f"{Member.objects.count():,} members")
    print(f"{'page':<40}{'median ms':>10}{'worst ms':>10}{'queries':>9}{'rows':>9}")
    for role in ("province", "county", "township"):
        for label, url in ((f"{role} household list", "/households/"),
                           (f"{role} list, 有底线预警", "/households/?floor_alert=on")):
            client = Client()
            client.force_login(users[role])
            timings = []
            for _ in range(RUNS):
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            rows = response.context["page"].paginator.count
            print(f"{label:<40}{statistics.median(timings):>10.1f}{max(timings):>10.1f}{len(queries):>9}{rows:>9,}")
            if connection.vendor == "postgresql" and "floor_alert" in url and os.environ.get("BENCH_EXPLAIN", "1") == "1":
                heaviest = max(queries.captured_queries, key=lambda q: float(q["time"]))
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + heaviest["sql"])
                    plan = [row[0] for row in cursor.fetchall()]
                print(f"    heaviest query {float(heaviest['time']) * 1000:.1f} ms; plan (first lines):")
                for line in plan[:10] + plan[-1:]:
                    print("      " + line)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
