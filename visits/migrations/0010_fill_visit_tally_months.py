"""Fills the new month columns of the yearly visit tallies from the visits already recorded: the rows
are recounted whole, with the same statement as visits.tallies.rebuild."""

from django.db import migrations
from django.db.models import Count, Max, Q
from django.db.models.functions import ExtractMonth, ExtractYear

MONTHS = [f"m{month:02d}" for month in range(1, 13)]


def fill_visit_tally_months(apps, schema_editor):
    connection = schema_editor.connection
    Visit, VisitTally = apps.get_model("visits", "Visit"), apps.get_model("visits", "VisitTally")
    VisitTally.objects.all().delete()
    queryset = (
        Visit.objects.order_by()
        .annotate(y=ExtractYear("visited_on"), m=ExtractMonth("visited_on"))
        .values("cadre_id", "household_id", "y")
        .annotate(
            n=Count("pk"),
            last=Max("visited_on"),
            **{name: Count("pk", filter=Q(m=month)) for month, name in enumerate(MONTHS, start=1)},
        )
    )
    sql, params = queryset.query.sql_with_params()
    columns = ["cadre", "household", "year", "visits", "last_visited_on", *MONTHS]
    names = ", ".join(connection.ops.quote_name(VisitTally._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {VisitTally._meta.db_table} ({names}) {sql}", params)


class Migration(migrations.Migration):
    dependencies = [("visits", "0009_visit_tally_months")]

    operations = [migrations.RunPython(fill_visit_tally_months, migrations.RunPython.noop)]
