"""Fills the cadres' standings and their counts (the same statements as pairing.standings.rebuild)."""

from collections import defaultdict

from django.db import migrations


def fill_cadre_standings(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    counties = "STRING_AGG(county, ',' ORDER BY county)" if postgres else "MIN(county)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO pairing_cadrestanding
                (cadre_id, seat, rank, category, active, counties, households, responsible)
            SELECT c.id, u.region_id, c.rank, c.category, c.status = %s, COALESCE(l.counties, ''),
                   COALESCE(l.households, 0), COALESCE(l.responsible, 0)
            FROM pairing_cadre c
            JOIN pairing_unit u ON u.id = c.unit_id
            LEFT JOIN (
                SELECT cadre_id, {counties} AS counties, SUM(households) AS households,
                       SUM(responsible) AS responsible
                FROM pairing_cadreload WHERE households > 0 GROUP BY cadre_id
            ) l ON l.cadre_id = c.id
            """,
            ["在岗"],
        )
    if not postgres:  # no ordered string aggregate: the cadres holding several counties, listed here
        CadreLoad, CadreStanding = (
            apps.get_model("pairing", "CadreLoad"),
            apps.get_model("pairing", "CadreStanding"),
        )
        several = defaultdict(set)
        for cadre_id, county in CadreLoad.objects.filter(households__gt=0).values_list("cadre_id", "county"):
            several[cadre_id].add(county)
        for cadre_id, held in several.items():
            if len(held) > 1:
                CadreStanding.objects.filter(cadre_id=cadre_id).update(counties=",".join(sorted(held)))
    columns = "seat, rank, category, active, counties, households, responsible"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO pairing_standingcount ({columns}, cadres) "
            f"SELECT {columns}, COUNT(*) FROM pairing_cadrestanding GROUP BY {columns}"
        )


class Migration(migrations.Migration):
    dependencies = [("pairing", "0011_cadre_standings")]

    operations = [migrations.RunPython(fill_cadre_standings, migrations.RunPython.noop)]
