"""A township's pages read about their township's rows, not the province's.

Scope filters are code prefixes; written as LIKE they read whole tables under any collation but C
(issue 18). Over generated province data, every query each township page makes is run again under
EXPLAIN ANALYZE, and a scan that read far more of a big table than the township holds fails.
PostgreSQL only: the plans are PostgreSQL's.
"""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.db.models.functions import Substr
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from demands.models import Demand
from demo.province import Scale, generate
from households.models import Household, Member, Region
from pairing.models import Cadre, Pairing, Unit
from tests.plans import explain, rows_read
from visits.models import Visit

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="EXPLAIN (ANALYZE, FORMAT JSON) is PostgreSQL's"
    ),
]

# 10k households in 10 counties (~100 townships), ~110k visits: a township is about 1% of the
# province, and it generates in seconds. See tests/plans.py for why the plans are probed.
SCALE = Scale(households=10_000, cadres=5_000, units=500, poor_villages=500, poor_counties=10)
BIG = 2000  # tables with fewer rows are not checked
SLACK = 5  # a scan may read this many times the township's rows of a table (plus BIG/10 rows)
AS_OF = "2025-12-31"
PAGES = [
    "/?refresh=1",
    "/visits/",
    "/visits/new/",
    f"/visits/worklists/?on={AS_OF}",
    *(f"/visits/worklists/{kind}/?on={AS_OF}" for kind in ("stale", "quarter", "cadres", "units")),
    "/households/",
    "/cadres/",
    "/coverage/",
    "/demands/",
]


def _township_with_most_households() -> Region:
    busiest = (
        Household.objects.order_by()
        .annotate(township=Substr("village_id", 1, 9))
        .values("township")
        .annotate(households=Count("pk"))
        .order_by("-households", "township")
        .first()
    )
    return Region.objects.get(code=busiest["township"] + "000")


def _outline(plan: dict, depth: int = 0) -> str:
    """The plan's nodes, one per line, for the failure message."""
    line = (
        "  " * depth
        + f"{plan['Node Type']} {plan.get('Relation Name', '')} {plan.get('Index Name', '')}".rstrip()
    )
    line += f" rows={plan.get('Actual Rows')} loops={plan.get('Actual Loops')}"
    return "\n    ".join([line] + [_outline(child, depth + 1) for child in plan.get("Plans", [])])


def _demands_for_every_fifth_household(clerk):
    on = datetime.date(2025, 11, 1)
    Demand.objects.bulk_create(
        Demand(
            household_id=pk, raised_on=on, category="基础设施", text="村道塌方", due_on=on, raised_by=clerk
        )
        for pk in Household.objects.order_by("pk").values_list("pk", flat=True)[::5]
    )


def _reltuples(model) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [model._meta.db_table])
        return cursor.fetchone()[0]


def test_generate_province_leaves_planner_statistics():
    call_command("generate_province", scale=0.001, verbosity=0)
    assert _reltuples(Household) > 0  # -1 until a table is first analyzed


def test_township_pages_read_their_township_not_the_province(client):
    call_command("load_regions", verbosity=0)
    generate(SCALE, log=lambda message: None)
    township = _township_with_most_households()
    user = User.objects.create(username="guard_town", role="township", region=township)
    _demands_for_every_fifth_household(user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    # The township's own share of each big table, by the same scopes the pages use.
    models = [Household, Member, Pairing, Cadre, Unit, Visit, Demand]
    share = {}
    for model in models:
        total = model.objects.count()
        if total >= BIG:
            share[model._meta.db_table] = (total, model.objects.visible_to(user).count())
    assert {Household._meta.db_table, Pairing._meta.db_table, Visit._meta.db_table} <= set(share)

    client.force_login(user)
    too_wide = []
    for url in PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = explain(sql)
            for table, read in rows_read(plan).items():
                if table not in share:
                    continue
                total, own = share[table]
                if read > SLACK * own + BIG // 10:
                    too_wide.append(
                        f"{url}: read {read:,} of {total:,} rows of {table} (township has {own:,})\n"
                        f"    {sql[:300]}\n    {_outline(plan)}"
                    )
    assert not too_wide, "\n".join(too_wide)
