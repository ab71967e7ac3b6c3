"""Reading PostgreSQL plans: how many rows of each table a query's scans touched.

EXPLAIN (ANALYZE, FORMAT JSON) gives, per scan node, the rows it returned and the rows its filter
threw away, per loop. Their sum times the loops is what the scan read, whether it was a sequential
scan or an index scan whose filter (not its index condition) did the narrowing: the second reads as
much as the first and `enable_seqscan = off` would not notice it.
"""

from django.db import connection

SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


# Small generated tables are cheaper read whole than probed, so the planner rightly hashes them; at
# province scale it must not. Planning without sequential scans, hash and merge joins asks instead:
# can this query be served at the cost of its scope? If not (a LIKE no index serves, an OR the
# index cannot split), a scan still reads the whole table, as a forced sequential scan or a full
# index scan behind a filter, and rows_read() sees it.
PROBING = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")


def explain(sql: str, params=None, *, probing: bool = True) -> dict:
    with connection.cursor() as cursor:
        for setting in PROBING if probing else ():
            cursor.execute(f"SET {setting} = off")
        try:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        finally:
            for setting in PROBING if probing else ():
                cursor.execute(f"RESET {setting}")
    if isinstance(plan, str):  # a driver that does not decode json
        import json

        plan = json.loads(plan)
    return plan[0]["Plan"]


def rows_read(plan: dict) -> dict[str, int]:
    """Table name -> rows its scans read in this plan (returned + filtered out, times loops;
    look-ups by key from a nested loop left out)."""
    totals: dict[str, int] = {}
    stack = [plan]
    while stack:
        node = stack.pop()
        stack.extend(node.get("Plans", []))
        if node["Node Type"] not in SCANS or "Relation Name" not in node:
            continue
        per_loop = (
            node.get("Actual Rows", 0)
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        loops = node.get("Actual Loops", 0)
        if loops > 1 and per_loop <= 1:
            # A look-up by key for each row of an outer scan (a visit's cadre): its cost is that
            # scan's, which is counted on its own table. A repeated scan reads more per loop and counts.
            continue
        read = round(per_loop * loops)
        totals[node["Relation Name"]] = totals.get(node["Relation Name"], 0) + read
    return totals
