"""不重复、不遗漏: coverage counts per region, aggregated in the database.

Each function returns a queryset (the list behind a count) or one GROUP BY over
a region prefix, so a coverage page costs the same few queries at township
and at province scope. Cadres are located by their unit's seat; limits are the
ones the pairing rules apply: those of the counties of the households a cadre
holds, or of the unit's seat for a cadre with none (see _cadre_load_sql), read from the
per-cadre tallies that the pairing services keep (pairing/tallies.py).
"""

from django.db import connection
from django.db.models import Exists, OuterRef

from households.models import Household, Region
from shuanglian.indicators import Scope

from .models import Cadre, CadreLoad, CountyRules, Pairing, RankLimit, StandingCount, Unit, VillageLink

RESPONSIBLE = Pairing.Role.RESPONSIBLE


def _cadre_load_sql(scope: Scope) -> tuple[str, list]:
    """Active, non-exempt cadres of units seated in the region (or of the scope's unit), one row
    each with their open load and the limits the pairing rules hold them to, as SQL.

    The rules (rules.py) check each new pairing against the limits of the HOUSEHOLD's county,
    so a cadre with open pairings is judged by the counties of the households they hold: where
    these lie in several counties, the most lenient limit among them (largest max_households and
    max_poor), since any load within it can have been accepted; only what exceeds every
    applicable limit is over. The lower bound (min_poor, a hint: RuleBook.warnings) follows the
    same counties and takes the smallest, the lenient choice again. A cadre with no open pairing
    has no household county and is judged by the county where the unit is seated. A county
    without a RankLimit row for the rank has the defaults (RankLimit.DEFAULTS, min_poor 1), as in
    RuleBook.for_county.

    Exemption follows the same counties (_exempt_sql): a cadre with no open pairing is exempt where
    the seat county's CountyRules.exempt_categories (Cadre.EXEMPT_CATEGORIES where the county has
    no rules, or the unit sits above a county) hold the cadre's category; a cadre holding open
    pairings was accepted by the rules of the households' counties, and is counted.

    The loads per cadre and household county are the CadreLoad tallies (pairing/tallies.py), a
    row per cadre and county rather than per pairing: aggregating every open pairing with its
    household took 1.3-1.6 s at province scale (issue 18). The region is a range of the unit's
    seat code, which a plain btree serves under any collation (a LIKE prefix needs C).

    A province or city sees most cadres: there the tallies are aggregated alone (_wide_load_sql);
    a county, township or unit starts from its own cadres (_narrow_load_sql). Same rows either way.
    """
    if not scope.is_unit and len(scope.prefix) <= 4:
        return _wide_load_sql(scope)
    return _narrow_load_sql(scope)


def _where(scope: Scope) -> tuple[str, list]:
    """The cadres of the scope: of one unit, or of units seated in a range of region codes."""
    if scope.is_unit:
        return "c.unit_id = %s", [scope.unit_id]
    return "u.region_id >= %s AND u.region_id < %s", [scope.prefix, _after(scope.prefix)]


def _exempt_sql(seat: str = "u.region_id", category: str = "c.category") -> tuple[str, str, list]:
    """A join to the seat county's rules and a condition true for a cadre exempt there (given the
    SQL of the unit's seat and of the cadre's category)."""
    rules = CountyRules._meta.db_table
    join = f"LEFT JOIN {rules} cr ON cr.county_id = SUBSTR({seat}, 1, 6) || '000000'"
    if connection.vendor == "postgresql":
        listed = f"jsonb_exists(cr.exempt_categories, {category})"
    else:
        listed = f"EXISTS (SELECT 1 FROM json_each(cr.exempt_categories) e WHERE e.value = {category})"
    defaults = ", ".join("%s" for _ in Cadre.EXEMPT_CATEGORIES)
    condition = f"(CASE WHEN cr.county_id IS NULL THEN {category} IN ({defaults}) ELSE {listed} END)"
    return join, condition, list(Cadre.EXEMPT_CATEGORIES)


def _narrow_load_sql(scope: Scope) -> tuple[str, list]:
    """_cadre_load_sql from the region's cadres, each joined to its tally rows."""
    cadre, unit, load, limit = (model._meta.db_table for model in (Cadre, Unit, CadreLoad, RankLimit))
    ranks = list(RankLimit.DEFAULTS.items())
    by_rank = " ".join("WHEN %s THEN %s" for _ in ranks)
    rules_join, exempt, exempt_params = _exempt_sql()
    where, where_params = _where(scope)
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
        {rules_join}
        WHERE {where} AND c.status = %s
        GROUP BY c.id, u.region_id, c.rank
        HAVING MAX(CASE WHEN {exempt} THEN 0 ELSE 1 END) = 1 OR COUNT(t.cadre_id) > 0
    """
    max_households = [value for rank, (total, _poor) in ranks for value in (rank, total)]
    max_poor = [value for rank, (_total, poor) in ranks for value in (rank, poor)]
    params = max_households + max_households + max_poor + max_poor
    params += [*where_params, Cadre.Status.ACTIVE, *exempt_params]
    return sql, params


def _wide_load_sql(scope: Scope) -> tuple[str, list]:
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

    rules_join, exempt, exempt_params = _exempt_sql()
    where, where_params = _where(scope)
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
        {rules_join}
        WHERE {where} AND c.status = %s AND (l.cadre_id IS NOT NULL OR NOT {exempt})
    """
    names = [rank for rank, _limits in ranks]
    totals = [value for rank, (total, _poor) in ranks for value in (rank, total)]
    poors = [value for rank, (_total, poor) in ranks for value in (rank, poor)]
    params = names + totals + names + poors + names
    params += [value for _rank, (total, poor) in ranks for value in (total, poor)]  # lenient: the defaults
    params += [rank for rank in names for _field in range(3)]  # pivot
    params += [*where_params, Cadre.Status.ACTIVE, *exempt_params]
    return sql, params


def _after(prefix: str) -> str:
    """The least string above every code starting with the (all-digit) prefix: '6201' → '6202'."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "~"


OVER_LIMIT = "(poor_load > max_poor OR total_load > max_households)"
UNDER_LIMIT = "(poor_load < min_poor)"


def cadres_by_limit(prefix: str, condition: str) -> list[Cadre]:
    """The cadres over (OVER_LIMIT) or under (UNDER_LIMIT) their limits, with load and limits attached."""
    sql, params = _cadre_load_sql(Scope(prefix=prefix))
    rows = _dict_rows(f"SELECT * FROM ({sql}) t WHERE {condition} ORDER BY seat, cadre_id", params)
    cadres = Cadre.objects.select_related("unit").in_bulk([row["cadre_id"] for row in rows])
    result = []
    for row in rows:
        cadre = cadres[row["cadre_id"]]
        for key in ("total_load", "poor_load", "max_households", "max_poor", "min_poor"):
            setattr(cadre, key, row[key])
        result.append(cadre)
    return result


CADRE_FIGURES = f"""COUNT(*) AS cadres, SUM(CASE WHEN total_load > 0 THEN 1 ELSE 0 END) AS cadres_paired,
    SUM(CASE WHEN {OVER_LIMIT} THEN 1 ELSE 0 END) AS cadres_over,
    SUM(CASE WHEN {UNDER_LIMIT} THEN 1 ELSE 0 END) AS cadres_under"""


def cadre_counts(scope: Scope, digits: int | None = None) -> list[dict]:
    """Cadres, those paired, over and under their limits: one row for the scope, or one per
    `digits` leading digits of the unit's seat (key "child"; SUM() over no rows is None).

    A region's figures add up the StandingCount tallies (_standing_counts_sql); a unit's, and the
    lists of cadres, judge its cadres one by one (recounted_cadre_counts). Same figures."""
    if scope.is_unit:
        return recounted_cadre_counts(scope, digits)
    return _dict_rows(*_standing_counts_sql(scope, digits))


def recounted_cadre_counts(scope: Scope, digits: int | None = None) -> list[dict]:
    """cadre_counts from each cadre's load and limits (_cadre_load_sql), without the counts."""
    sql, params = _cadre_load_sql(scope)
    if digits is None:
        return _dict_rows(f"SELECT {CADRE_FIGURES} FROM ({sql}) t", params)
    child = f"SUBSTR(seat, 1, {int(digits)})"
    return _dict_rows(f"SELECT {child} AS child, {CADRE_FIGURES} FROM ({sql}) t GROUP BY {child}", params)


def _standing_counts_sql(scope: Scope, digits: int | None) -> tuple[str, list]:
    """cadre_counts of a region as SQL, from the StandingCount rows of units seated in it: each row
    is many cadres sharing a seat, rank, category, household counties and load, judged once.

    The judgement is _cadre_load_sql's. A row's household counties (a sorted, comma-joined list of
    12-digit codes) are split apart by a recursive query and joined to their RankLimit rows, the
    defaults standing in for a county without one; the most lenient limits among them apply. A row
    with no household county takes the seat county's limits, and is left out where its category
    is exempt there."""
    counts, limit = StandingCount._meta.db_table, RankLimit._meta.db_table
    ranks = list(RankLimit.DEFAULTS.items())

    def by_rank(column: str, index: int) -> tuple[str, list]:
        whens = " ".join("WHEN %s THEN %s" for _ in ranks)
        return f"CASE {column} {whens} END", [
            value for rank, limits in ranks for value in (rank, limits[index])
        ]

    held_total, held_total_params = by_rank("x.rank", 0)
    held_poor, held_poor_params = by_rank("x.rank", 1)
    seat_total, seat_total_params = by_rank("d.rank", 0)
    seat_poor, seat_poor_params = by_rank("d.rank", 1)
    rules_join, exempt, exempt_params = _exempt_sql(seat="d.seat", category="d.category")
    in_scope = "d.seat >= %s AND d.seat < %s AND d.active AND d.cadres <> 0"
    scope_params = [scope.prefix, _after(scope.prefix)]
    # A county without a row for the rank adds the defaults (min_poor 1) to the lenient choice.
    missing = "COUNT(r.county_id) < COUNT(*)"
    child = f"SUBSTR(t.seat, 1, {int(digits)})" if digits is not None else None
    figures = """SUM(t.cadres) AS cadres,
        SUM(CASE WHEN t.households > 0 THEN t.cadres ELSE 0 END) AS cadres_paired,
        SUM(CASE WHEN t.responsible > t.max_poor OR t.households > t.max_households
            THEN t.cadres ELSE 0 END) AS cadres_over,
        SUM(CASE WHEN t.responsible < t.min_poor THEN t.cadres ELSE 0 END) AS cadres_under"""
    sql = f"""
        WITH RECURSIVE held (counties, rank) AS (
            SELECT DISTINCT d.counties, d.rank FROM {counts} d WHERE {in_scope} AND d.households > 0
        ), split (counties, rank, county, rest) AS (
            SELECT counties, rank, SUBSTR(counties, 1, 12), SUBSTR(counties, 14) FROM held
            UNION ALL
            SELECT counties, rank, SUBSTR(rest, 1, 12), SUBSTR(rest, 14) FROM split WHERE rest <> ''
        ), lim AS (
            SELECT x.counties, x.rank,
                   CASE WHEN {missing} AND COALESCE(MAX(r.max_households), -1) < {held_total}
                        THEN {held_total} ELSE MAX(r.max_households) END AS max_households,
                   CASE WHEN {missing} AND COALESCE(MAX(r.max_poor), -1) < {held_poor}
                        THEN {held_poor} ELSE MAX(r.max_poor) END AS max_poor,
                   CASE WHEN {missing} AND COALESCE(MIN(r.min_poor), 2) > 1
                        THEN 1 ELSE MIN(r.min_poor) END AS min_poor
            FROM split x
            LEFT JOIN {limit} r ON r.county_id = x.county AND r.rank = x.rank
            GROUP BY x.counties, x.rank
        )
        SELECT {f"{child} AS child, " if child else ""}{figures}
        FROM (
            SELECT d.seat, d.cadres, d.households, d.responsible,
                   COALESCE(l.max_households, s.max_households, {seat_total}) AS max_households,
                   COALESCE(l.max_poor, s.max_poor, {seat_poor}) AS max_poor,
                   COALESCE(l.min_poor, s.min_poor, 1) AS min_poor
            FROM {counts} d
            LEFT JOIN lim l ON l.counties = d.counties AND l.rank = d.rank AND d.households > 0
            LEFT JOIN {limit} s ON s.county_id = SUBSTR(d.seat, 1, 6) || '000000' AND s.rank = d.rank
                AND d.households = 0
            {rules_join}
            WHERE {in_scope} AND (d.households > 0 OR NOT {exempt})
        ) t
        {f"GROUP BY {child}" if child else ""}
    """
    params = [*scope_params]
    params += held_total_params * 2 + held_poor_params * 2
    params += seat_total_params + seat_poor_params
    params += [*scope_params, *exempt_params]
    return sql, params


def _split_counties_sql(where: str) -> str:
    """A recursive query `split (id, cadres, county, rest)`: each StandingCount row matching `where`
    (on alias d) once per county of its counties (12-digit codes, comma-joined)."""
    counts = StandingCount._meta.db_table
    return f"""split (id, cadres, county, rest) AS (
            SELECT d.id, d.cadres, SUBSTR(d.counties, 1, 12), SUBSTR(d.counties, 14) FROM {counts} d
            WHERE {where}
            UNION ALL
            SELECT id, cadres, SUBSTR(rest, 1, 12), SUBSTR(rest, 14) FROM split WHERE rest <> ''
        )"""


def helping_counts(prefix: str, digits: int | None = None) -> list[dict]:
    """The cadres (any status) holding open pairings with households of a set of whole counties
    (the region `prefix`, at most a county's digits): {"cadres": n} for the region, or one per
    `digits` leading digits of the households' counties (key "child"). From the StandingCount rows:
    a row's cadres count once in each region where any of its counties lies."""
    child = f"SUBSTR(x.county, 1, {int(digits)})" if digits is not None else "''"
    sql = f"""
        WITH RECURSIVE {_split_counties_sql("d.households > 0 AND d.cadres <> 0")}
        SELECT child, SUM(cadres) AS cadres FROM (
            SELECT DISTINCT x.id, x.cadres, {child} AS child FROM split x
            WHERE x.county >= %s AND x.county < %s
        ) t GROUP BY child
    """
    return _dict_rows(sql, [prefix, _after(prefix)])


def _dict_rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def unpaired_poor(prefix: str):
    """The poor households on the register with no open responsible pairing (the unpaired figure's list)."""
    has_responsible = Pairing.objects.open().responsible().filter(household_id=OuterRef("pk"))
    return (
        Household.objects.in_scope(Scope(prefix=prefix)).poor_on_register().exclude(Exists(has_responsible))
    )


def poor_villages_without_unit(prefix: str):
    linked = VillageLink.objects.open().filter(village_id=OuterRef("code"))
    return Region.objects.villages().within(prefix).filter(is_poor=True).exclude(Exists(linked))


def units_without_village(prefix: str):
    linked = VillageLink.objects.open().filter(unit_id=OuterRef("pk"))
    return Unit.objects.filter(region__code__startswith=prefix).exclude(Exists(linked))
