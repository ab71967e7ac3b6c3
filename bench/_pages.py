"""What the page benchmarks in bench/ share: a database with the generated province, logins
scoped to the province, a poor county and one of its townships, and per-page timings.

Import it before anything from Django or the project: importing it sets Django up.
"""

import os
import re
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
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
PROVINCE = "620000000000"


def prepare_database():
    # Settings default to production (DEBUG off): the test environment lets the client's
    # "testserver" host in and records response.context, and the client speaks plain HTTP,
    # which SECURE_SSL_REDIRECT would answer with a redirect instead of the page.
    setup_test_environment()
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


@contextmanager
def timed(done: str):
    """Prints "<done> in N.N s" once the block has run."""
    started = time.perf_counter()
    yield
    print(f"{done} in {time.perf_counter() - started:.1f} s")


def generate_province_if_empty(scale: float, done: str = "generated") -> bool:
    """True if it generated; a database that already has households is reused as it is."""
    from households.models import Household

    if Household.objects.exists():
        return False
    with timed(done):
        call_command("generate_province", scale=scale, verbosity=1)
    return True


def analyze(vacuum: bool = False):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def pick_scopes() -> dict:
    """The province, the first poor county, and the township of one of that county's households
    (so the township has data to show)."""
    from households.models import Household, Region

    county = Region.objects.filter(level="county", is_poor=True).order_by("code").first()
    households = Household.objects.filter(village__code__startswith=county.prefix)
    village = households.values_list("village_id", flat=True)[0]
    township = Region.objects.get(code=village[:9] + "000")
    return {"province": Region.objects.get(code=PROVINCE), "county": county, "township": township}


def bench_user(role: str, **fields):
    # update_or_create, not create: a kept database (bench/visits.sh) already has them.
    from accounts.models import User

    return User.objects.update_or_create(username=f"bench_{role}", defaults={"role": role, **fields})[0]


def bench_users(scopes: dict) -> dict:
    """One bench_<role> login per scope of pick_scopes()."""
    return {role: bench_user(role, region=region) for role, region in scopes.items()}


def figure(name: str, value, unit: str, goal: str | None = None):
    """One figure for bench/run.sh (docs/benchmarks.md): `FIGURE name value unit goal`.

    name has no spaces; goal is `<N`, `<=N`, `=N`, `>N` or `-` (none)."""
    print(f"FIGURE {name} {value} {unit} {goal or '-'}")


def slug(label: str) -> str:
    """A figure name from a table label: ASCII words joined by underscores, names of places dropped."""
    label = re.sub(r"[(（][^)）]*[)）]", "", label)
    return "_".join(re.findall(r"[a-z0-9]+", label.lower()))


def page_figure(name: str, page: "PageTiming", goal: str | None = None):
    """A page's median render time and its query count, as two figures."""
    figure(f"{name}.median", round(statistics.median(page.timings), 1), "ms", goal)
    figure(f"{name}.queries", len(page.queries), "queries")


def table_heading(first_column: str, width: int) -> str:
    return f"{first_column:<{width}}{'median ms':>10}{'worst ms':>10}{'queries':>9}"


def timing_row(label: str, width: int, timings: list[float], query_count: int) -> str:
    return f"{label:<{width}}{statistics.median(timings):>10.1f}{max(timings):>10.1f}{query_count:>9}"


def heaviest_query(queries: CaptureQueriesContext) -> dict:
    return max(queries.captured_queries, key=lambda q: float(q["time"]))


@dataclass
class PageTiming:
    timings: list[float]  # ms, one per run
    queries: CaptureQueriesContext  # of the last run, when the caches are warm
    response: object  # of the last run

    def row(self, label: str, width: int) -> str:
        return timing_row(label, width, self.timings, len(self.queries))

    @property
    def heaviest_query(self) -> dict:
        return heaviest_query(self.queries)


def time_page(user, url: str, runs: int = RUNS) -> PageTiming:
    """GETs url as user `runs` times through the test client: server-side time only, no browser."""
    client = Client()
    client.force_login(user)
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return PageTiming(timings, queries, response)


def explain_wanted(default: str = "1") -> bool:
    # EXPLAIN ANALYZE runs the query once more, so BENCH_EXPLAIN=0 gives a quicker run;
    # the syntax is PostgreSQL's.
    return connection.vendor == "postgresql" and os.environ.get("BENCH_EXPLAIN", default) == "1"


def heaviest_heading(query: dict) -> str:
    return f"    heaviest query {float(query['time']) * 1000:.1f} ms; plan (first lines):"


def print_plan(sql: str, first_lines: int, last_line: bool = True):
    """The plan's first lines and, with last_line, its last one (the execution time)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + sql)
        plan = [row[0] for row in cursor.fetchall()]
    for line in plan[:first_lines] + (plan[-1:] if last_line else []):
        print("      " + line)
