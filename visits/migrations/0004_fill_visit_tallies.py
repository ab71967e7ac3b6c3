"""Fills the tallies from the visits already recorded (the same statements as visits.tallies.rebuild)."""

from django.db import migrations
from django.db.models import Count, Max
from django.db.models.functions import ExtractYear


def _insert_select(connection, model, columns, queryset):
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) {sql}", params)


def fill_visit_tallies(apps, schema_editor):
    connection = schema_editor.connection
    Visit, UnitVisit = apps.get_model("visits", "Visit"), apps.get_model("visits", "UnitVisit")
    visits = Visit.objects.order_by()
    _insert_select(
        connection,
        apps.get_model("visits", "HouseholdContact"),
        ["household", "last_contacted_on"],
        visits.values("household_id").annotate(last=Max("visited_on")),
    )
    _insert_select(
        connection,
        apps.get_model("visits", "VisitTally"),
        ["cadre", "household", "year", "visits", "last_visited_on"],
        visits.annotate(y=ExtractYear("visited_on"))
        .values("cadre_id", "household_id", "y")
        .annotate(n=Count("pk"), last=Max("visited_on")),
    )
    _insert_select(
        connection,
        apps.get_model("visits", "UnitVisitTally"),
        ["unit", "village", "year", "visits", "last_visited_on"],
        UnitVisit.objects.order_by()
        .annotate(y=ExtractYear("visited_on"))
        .values("unit_id", "village_id", "y")
        .annotate(n=Count("pk"), last=Max("visited_on")),
    )


class Migration(migrations.Migration):
    dependencies = [("visits", "0003_visit_tallies")]

    operations = [migrations.RunPython(fill_visit_tallies, migrations.RunPython.noop)]
