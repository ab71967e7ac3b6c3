"""不重复、不遗漏: coverage counts per region, aggregated in the database.

Each function returns a queryset (the list behind a count) or one GROUP BY over
a region prefix, so a coverage page costs the same few queries at township
and at province scope. Cadres are located by their unit's seat; limits are the
ones the pairing rules apply: those of the counties of the households a cadre
holds, or of the unit's seat for a cadre with none (see _cadre_load_sql), read from the
per-cadre tallies that the pairing services keep (pairing/tallies.py).
"""

from django.db import connection
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q
from django.db.models.functions import Substr

from households.choices import POOR_CATEGORIES
from households.models import Household, Region
from shuanglian.lib.cached_counts import count_or_cached

from .models import Cadre, CadreLoad, Pairing, RankLimit, Unit, VillageLink

RESPONSIBLE = Pairing.Role.RESPONSIBLE


def _cadre_load_sql(prefix: str) -> tuple[str, list]:
    """Active, non-exempt cadres of units seated in the region, one row each with their open
    load and the limits the pairing rules hold them to, as SQL.

    The rules (rules.py) check each new pairing against the limits of the HOUSEHOLD's county,
    so a cadre with open pairings is judged by the counties of the households they hold: where
    these lie in several counties, the most lenient limit among them (largest max_households and
    max_poor), since any load within it can have been accepted; only what exceeds every
    applicable limit is over. The lower bound (min_poor, a hint: RuleBook.warnings) follows the
    same counties and takes the smallest, the lenient choice again. A cadre with no open pairing
    has no household county and is judged by the county where the unit is seated. A county
    without a RankLimit row for the rank has the defaults (RankLimit.DEFAULTS, min_poor 1), as in
    RuleBook.for_county. Exempt categories are Cadre.EXEMPT_CATEGORIES (the rules' default;
    a county's own CountyRules.exempt_categories is not followed here).

    The loads per cadre and household county are the CadreLoad tallies (pairing/tallies.py), a
    row per cadre and county rather than per pairing: aggregating every open pairing with its
    household took 1.3-1.6 s at province scale (issue 18). The region is a range of the unit's
    seat code, which a plain btree serves under any collation (a LIKE prefix needs C).

    A province or city sees most cadres: there the tallies are aggregated alone (_wide_load_sql);
    a county or township starts from its own cadres (_narrow_load_sql). Same rows either way.
    """
    return _wide_load_sql(prefix) if len(prefix) <= 4 else _narrow_load_sql(prefix)


def _narrow_load_sql(prefix: str) -> tuple[str, list]:
    """_cadre_load_sql from the region's cadres, each joined to its tally rows."""
    cadre, unit, load, limit = (model._meta.db_table for model in (Cadre, Unit, CadreLoad, RankLimit))
    ranks = list(RankLimit.DEFAULTS.items())
    by_rank = " ".join("WHEN %s THEN %s" for _ in ranks)
    exempt = ", ".join("%s" for _ in Cadre.EXEMPT_CATEGORIES)
    # One pass: each cadre joined to its tally rows (most have one county, none when idle) and
    # grouped back to a row. A limit from a household county only where a tally row is there.
    held = "t.cadre_id IS NOT NULL"
    sql = f"""
        SELECT c.id AS cadre_id, u.region_id AS seat,
               COALESCE(SUM(t.households), 0) AS total_load, COALESCE(SUM(t.responsible), 0) AS poor_load,
               COALESCE(MAX(CASE WHEN {held} THEN COALESCE(r.max_households, CASE c.rank {by_rank} END) END),
                        MAX(s.max_households), CASE c.rank {by_rank} END) AS max_households,
               COALESCE(MAX(CASE WHEN {held} THEN COALESCE(r.max_poor, CASE c.rank {by_rank} END) END),
                        MAX(s.max_poor), CASE c.rank {by_rank} END) AS max_poor,
               COALESCE(MIN(CASE WHEN {held} THEN COALESCE(r.min_poor, 1) END), MIN(s.min_poor), 1)
                   AS min_poor
        FROM {cadre} c
        JOIN {unit} u ON u.id = c.unit_id
        LEFT JOIN {load} t ON t.cadre_id = c.id AND t.households > 0
        LEFT JOIN {limit} r ON r.county_id = t.county AND r.rank = c.rank
        LEFT JOIN {limit} s ON s.county_id = SUBSTR(u.region_id, 1, 6) || '000000' AND s.rank = c.rank
        WHERE u.region_id >= %s AND u.region_id < %s AND c.status = %s AND c.category NOT IN ({exempt})
        GROUP BY c.id, u.region_id, c.rank
    """
    max_households = [value for rank, (total, _poor) in ranks for value in (rank, total)]
    max_poor = [value for rank, (_total, poor) in ranks for value in (rank, poor)]
    params = max_households + max_households + max_poor + max_poor
    params += [prefix, _after(prefix), Cadre.Status.ACTIVE, *Cadre.EXEMPT_CATEGORIES]
    return sql, params


def _wide_load_sql(prefix: str) -> tuple[str, list]:
    """_cadre_load_sql from every tally, aggregated per cadre before the cadres are joined."""
    cadre, unit, load, limit = (model._meta.db_table for model in (Cadre, Unit, CadreLoad, RankLimit))
    # Per cadre, the limits of its households' counties for every rank (a county's RankLimit rows
    # pivoted to one row, the defaults where it has none), so the tallies are aggregated alone and
    # each cadre's rank picks its column in the join outside: no pass over the cadres per county.
    ranks = list(RankLimit.DEFAULTS.items())  # every Cadre.Rank
    pivot = ", ".join(
        f"MAX(CASE WHEN rank = %s THEN {field} END) AS {field}_{index}"
        for index in range(len(ranks))
        for field in ("max_households", "max_poor", "min_poor")
    )
    lenient = ", ".join(
        f"MAX(COALESCE(p.max_households_{i}, %s)) AS max_households_{i}, "
        f"MAX(COALESCE(p.max_poor_{i}, %s)) AS max_poor_{i}, MIN(COALESCE(p.min_poor_{i}, 1)) AS min_poor_{i}"
        for i in range(len(ranks))
    )

    def by_rank(column):
        whens = " ".join(f"WHEN %s THEN {column.format(i=i)}" for i in range(len(ranks)))
        return f"CASE c.rank {whens} END"

    exempt = ", ".join("%s" for _ in Cadre.EXEMPT_CATEGORIES)
    sql = f"""
        SELECT c.id AS cadre_id, u.region_id AS seat,
               COALESCE(l.total, 0) AS total_load, COALESCE(l.poor, 0) AS poor_load,
               COALESCE({by_rank("l.max_households_{i}")}, s.max_households, {by_rank("%s")})
                   AS max_households,
               COALESCE({by_rank("l.max_poor_{i}")}, s.max_poor, {by_rank("%s")}) AS max_poor,
               COALESCE({by_rank("l.min_poor_{i}")}, s.min_poor, 1) AS min_poor
        FROM {cadre} c
        JOIN {unit} u ON u.id = c.unit_id
        LEFT JOIN (
            SELECT t.cadre_id, SUM(t.households) AS total, SUM(t.responsible) AS poor, {lenient}
            FROM {load} t
            LEFT JOIN (SELECT county_id, {pivot} FROM {limit} GROUP BY county_id) p ON p.county_id = t.county
            WHERE t.households > 0
            GROUP BY t.cadre_id
        ) l ON l.cadre_id = c.id
        LEFT JOIN {limit} s ON s.county_id = SUBSTR(u.region_id, 1, 6) || '000000' AND s.rank = c.rank
        WHERE u.region_id >= %s AND u.region_id < %s AND c.status = %s AND c.category NOT IN ({exempt})
    """
    names = [rank for rank, _limits in ranks]
    totals = [value for rank, (total, _poor) in ranks for value in (rank, total)]
    poors = [value for rank, (_total, poor) in ranks for value in (rank, poor)]
    params = names + totals + names + poors + names
    params += [value for _rank, (total, poor) in ranks for value in (total, poor)]  # lenient: the defaults
    params += [rank for rank in names for _field in range(3)]  # pivot
    params += [prefix, _after(prefix), Cadre.Status.ACTIVE, *Cadre.EXEMPT_CATEGORIES]
    return sql, params


def _after(prefix: str) -> str:
    """The least string above every code starting with the (all-digit) prefix: '6201' → '6202'."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "~"


OVER_LIMIT = "(poor_load > max_poor OR total_load > max_households)"
UNDER_LIMIT = "(poor_load < min_poor)"


def cadres_by_limit(prefix: str, condition: str) -> list[Cadre]:
    """The cadres over (OVER_LIMIT) or under (UNDER_LIMIT) their limits, with load and limits attached."""
    sql, params = _cadre_load_sql(prefix)
    rows = _dict_rows(f"SELECT * FROM ({sql}) t WHERE {condition} ORDER BY seat, cadre_id", params)
    cadres = Cadre.objects.select_related("unit").in_bulk([row["cadre_id"] for row in rows])
    result = []
    for row in rows:
        cadre = cadres[row["cadre_id"]]
        for key in ("total_load", "poor_load", "max_households", "max_poor", "min_poor"):
            setattr(cadre, key, row[key])
        result.append(cadre)
    return result


def _cadre_counts(prefix: str, digits: int) -> list[dict]:
    sql, params = _cadre_load_sql(prefix)
    query = f"""
        SELECT SUBSTR(seat, 1, {int(digits)}) AS child, COUNT(*) AS cadres,
               SUM(CASE WHEN {OVER_LIMIT} THEN 1 ELSE 0 END) AS cadres_over,
               SUM(CASE WHEN {UNDER_LIMIT} THEN 1 ELSE 0 END) AS cadres_under
        FROM ({sql}) t GROUP BY SUBSTR(seat, 1, {int(digits)})
    """
    return _dict_rows(query, params)


def _dict_rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def unpaired_poor(prefix: str):
    has_responsible = Pairing.objects.open().responsible().filter(household_id=OuterRef("pk"))
    return (
        Household.objects.filter(village__code__startswith=prefix, status="在册")
        .poor()
        .exclude(Exists(has_responsible))
    )


def poor_villages_without_unit(prefix: str):
    linked = VillageLink.objects.open().filter(village_id=OuterRef("code"))
    return Region.objects.villages().within(prefix).filter(is_poor=True).exclude(Exists(linked))


def units_without_village(prefix: str):
    linked = VillageLink.objects.open().filter(unit_id=OuterRef("pk"))
    return Unit.objects.filter(region__code__startswith=prefix).exclude(Exists(linked))


COUNT_KEYS = (
    "households poor paired unpaired villages poor_villages poor_villages_without_unit "
    "cadres cadres_over cadres_under units units_without_village"
).split()


def per_child(region: Region, children: list[Region]) -> tuple[list[dict], dict]:
    """Counts per child region and for the whole region, from four GROUP BY queries.

    The totals are the sum of every group, including units and cadres seated at the
    region's own level (they group under no child), so no second pass is needed.
    """
    digits = len(children[0].prefix) if children else len(region.prefix)
    # A LEFT JOIN on the one open responsible pairing (unique per household) is a single
    # hash join; an EXISTS probe per household costs 400k index look-ups at the province.
    households = (
        Household.objects.filter(village__code__startswith=region.prefix)
        .annotate(
            responsible=FilteredRelation(
                "pairings", condition=Q(pairings__ended_on__isnull=True, pairings__role=RESPONSIBLE)
            ),
            child=Substr("village_id", 1, digits),
        )
        .values("child")
        .annotate(
            households=Count("pk"),
            poor=Count("pk", filter=Q(category__in=POOR_CATEGORIES, status="在册")),
            unpaired=Count(
                "pk", filter=Q(category__in=POOR_CATEGORIES, status="在册", responsible__isnull=True)
            ),
        )
    )
    linked = VillageLink.objects.open().filter(village_id=OuterRef("code"))
    villages = (
        Region.objects.villages()
        .within(region.prefix)
        .annotate(child=Substr("code", 1, digits), linked=Exists(linked))
        .values("child")
        .annotate(
            villages=Count("code"),
            poor_villages=Count("code", filter=Q(is_poor=True)),
            poor_villages_without_unit=Count("code", filter=Q(is_poor=True, linked=False)),
        )
    )
    cadres = _cadre_counts(region.prefix, digits)
    any_link = VillageLink.objects.open().filter(unit_id=OuterRef("pk"))
    units = (
        Unit.objects.filter(region__code__startswith=region.prefix)
        .annotate(child=Substr("region_id", 1, digits), links=Exists(any_link))
        .values("child")
        .annotate(units=Count("pk"), units_without_village=Count("pk", filter=Q(links=False)))
    )
    merged = {child.prefix: dict.fromkeys(COUNT_KEYS, 0) | {"region": child} for child in children}
    totals = dict.fromkeys(COUNT_KEYS, 0) | {"region": region}
    for rows in (households, villages, cadres, units):
        for row in rows:
            for key, value in row.items():
                if key == "child":
                    continue
                value = value or 0  # SUM() over no rows is NULL in SQL
                totals[key] += value
                if row["child"] in merged:
                    merged[row["child"]][key] = value
    for row in [*merged.values(), totals]:
        row["paired"] = row["poor"] - row["unpaired"]
    _add_helping_and_rate(region, digits, merged, totals)
    return list(merged.values()), totals


def _add_helping_and_rate(region: Region, digits: int, merged: dict, totals: dict) -> None:
    """在此帮扶的干部 and 落实率 for each row and the totals.

    The cadre counts above locate cadres where their unit is seated, so a township helped only by
    county units read 「干部 0」 (issue 19). cadres_helping counts the cadres with an open pairing on
    a household of the region, wherever their unit sits. It is not additive (one cadre may help in
    two townships), so the total is counted over the whole region, not summed from the rows.
    coverage_rate is the share of poor households with a responsible cadre, in whole percent
    (None where there are no poor households)."""
    pairings = Pairing.objects.open().filter(household__village__code__startswith=region.prefix)
    helping = (
        pairings.annotate(child=Substr("household__village_id", 1, digits))
        .values("child")
        .annotate(cadres=Count("cadre_id", distinct=True))
    )
    for row in merged.values():
        row["cadres_helping"] = 0
    for row in helping:
        if row["child"] in merged:
            merged[row["child"]]["cadres_helping"] = row["cadres"]
    totals["cadres_helping"] = pairings.values("cadre_id").distinct().count()
    for row in [*merged.values(), totals]:
        row["coverage_rate"] = round(100 * row["paired"] / row["poor"]) if row["poor"] else None


def per_child_cached(region: Region, children: list[Region], *, refresh: bool = False):
    """per_child, plus when it was counted: province and city counts come from the cache
    (shuanglian.lib.cached_counts; None for a county or below, which is always counted live)."""
    (rows, totals), counted_at = count_or_cached(
        f"coverage:{region.code}", region.prefix, lambda: per_child(region, children), refresh=refresh
    )
    return rows, totals, counted_at
