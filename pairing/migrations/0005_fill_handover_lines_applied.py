from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Handovers applied before lines were applied one office at a time: their lines were applied with them."""
    Handover = apps.get_model("pairing", "Handover")
    HandoverLine = apps.get_model("pairing", "HandoverLine")
    applied = Handover.objects.filter(pk=OuterRef("handover_id"))
    HandoverLine.objects.filter(handover__status="已实施", applied_at__isnull=True).update(
        applied_at=Subquery(applied.values("applied_at")[:1]),
        applied_by=Subquery(applied.values("applied_by")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pairing", "0004_handover_lines_applied_per_scope"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
