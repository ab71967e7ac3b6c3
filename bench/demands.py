"""Time the ledger pages and escalate_overdue with one demand per paired household.

Prints median and worst server-side render times and query counts of the ledger for the
province, a county and a township, the "overdue at my level" worklist, and the duration of
escalate_overdue (first run and the idempotent second run); BENCH_EXPLAIN=1 adds the first lines
of each page's heaviest plan. Run through bench/demands.sh.
"""

import datetime
import random
import sys
import time

import _pages  # first: sets Django up
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

BATCH = 5000


def make_demands(user):
    from demands.models import LEVEL_ORDER, Demand, DemandAction
    from pairing.models import Pairing

    rng = random.Random(6)
    today = timezone.localdate()
    households = (
        Pairing.objects.open().responsible().order_by("household_id").values_list("household_id", flat=True)
    )
    demands = []
    for household_id in households.iterator(chunk_size=BATCH):
        raised = today - datetime.timedelta(days=rng.randrange(365))
        status = rng.choice(Demand.Status.values)
        overdue = rng.random() < 0.2
        demands.append(
            Demand(
                household_id=household_id,
                raised_on=raised,
                category=rng.choice(Demand.Category.values),
                text="bench",
                level=rng.choice(LEVEL_ORDER),
                status=status,
                raised_by=user,
                due_on=today - datetime.timedelta(days=2) if overdue else today + datetime.timedelta(days=10),
            )
        )
    for start in range(0, len(demands), BATCH):
        chunk = Demand.objects.bulk_create(demands[start : start + BATCH])
        DemandAction.objects.bulk_create(
            DemandAction(demand=d, kind="提出", from_level="干部", by=user) for d in chunk
        )
    return len(demands)


def main(scale: float):
    _pages.prepare_database()
    from accounts.models import User
    from demands.models import Demand
    from households.models import Household

    _pages.generate_province_if_empty(scale, done="generated the province")
    admin = User.objects.update_or_create(username="bench_admin", defaults={"is_superuser": True})[0]
    if not Demand.objects.exists():
        started = time.perf_counter()
        count = make_demands(admin)
        print(f"made {count:,} demands in {time.perf_counter() - started:.1f} s")
    _pages.analyze()

    users = _pages.bench_users(_pages.pick_scopes())
    print(
        f"\n{connection.vendor}, scale {scale}: {Household.objects.count():,} households, "
        f"{Demand.objects.count():,} demands, {Demand.objects.overdue().count():,} overdue"
    )
    print(_pages.table_heading("page", 34))
    for label, role, url in [
        # A province's or city's summary is cached: ?refresh=1 on every run times the recount.
        ("province ledger, recount", "province", "/demands/?refresh=1"),
        ("province ledger, cached", "province", "/demands/"),
        ("county ledger", "county", "/demands/"),
        ("township ledger", "township", "/demands/"),
        ("county ledger, 教育, overdue", "county", "/demands/?category=教育&overdue=on"),
        ("county overdue at my level", "county", "/demands/?mine=on&overdue=on"),
        ("township overdue at my level", "township", "/demands/?mine=on&overdue=on"),
        ("township export .xlsx", "township", "/demands/export.xlsx"),
    ]:
        page = _pages.time_page(users[role], url)
        print(page.row(label, 34))
        _pages.page_figure(_pages.slug(label), page)
        if _pages.explain_wanted(default="0"):
            _pages.print_plan(page.heaviest_query["sql"], first_lines=14, last_line=False)

    for run in ("first", "second"):
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            call_command("escalate_overdue", verbosity=0)
        took = (time.perf_counter() - began) * 1000
        print(f"escalate_overdue, {run} run: {took:.0f} ms, {len(queries)} queries")
        _pages.figure(f"escalate_overdue.{run}_run", round(took), "ms")
        _pages.figure(f"escalate_overdue.{run}_run.queries", len(queries), "queries")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.25)
