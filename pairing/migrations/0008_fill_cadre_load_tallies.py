"""Fills the cadres' load tallies from the open pairings (the same statement as pairing.tallies.rebuild)."""

from django.db import migrations
from django.db.models import Count, Q, Value
from django.db.models.functions import Concat, Substr


def fill_cadre_load_tallies(apps, schema_editor):
    connection = schema_editor.connection
    Pairing, CadreLoad = apps.get_model("pairing", "Pairing"), apps.get_model("pairing", "CadreLoad")
    county = Concat(Substr("household__village_id", 1, 6), Value("000000"))
    rows = (
        Pairing.objects.filter(ended_on__isnull=True)
        .order_by()
        .values("cadre_id", c=county)
        .annotate(n=Count("pk"), r=Count("pk", filter=Q(role="帮扶责任人")))
    )
    sql, params = rows.query.sql_with_params()
    names = ", ".join(
        connection.ops.quote_name(CadreLoad._meta.get_field(c).column)
        for c in ("cadre", "county", "households", "responsible")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CadreLoad._meta.db_table} ({names}) {sql}", params)


class Migration(migrations.Migration):
    dependencies = [("pairing", "0007_cadre_load_tallies")]

    operations = [migrations.RunPython(fill_cadre_load_tallies, migrations.RunPython.noop)]
