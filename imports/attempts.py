"""Recording a township's attempt to register a person registered outside its scope (issue 11, item 6).

The importer refuses such a row with a neutral message and lists the attempt in the result; this
module writes it down after the import's own transaction (which a refused file rolls back), so that
the county office sees every attempt, dry runs included: a probe is made with dry runs.
"""

from households.models import Region
from shuanglian.access import scope_prefix

from .models import RegisterAttempt


def record(result, *, user, filename: str = "", batch=None) -> int:
    """Write the result's register attempts (once per batch and ID); returns how many were new."""
    found = getattr(result, "register_attempts", None) or []
    if not found:
        return 0
    villages = set(
        Region.objects.filter(code__in={a["village"] for a in found}).values_list("code", flat=True)
    )
    rows = [
        RegisterAttempt(
            batch=batch,
            attempted_by=user,
            scope_code=scope_prefix(user) or "",
            filename=filename[:255],
            sheet=str(a["sheet"])[:100],
            row=a["row"],
            id_number=a["id_number"],
            name=str(a["name"] or "")[:50],
            registered_village_id=a["village"],
        )
        for a in found
        if a["village"] in villages
    ]
    if batch is not None:
        known = set(RegisterAttempt.objects.filter(batch=batch).values_list("id_number", flat=True))
        rows = [row for row in rows if row.id_number not in known]
    RegisterAttempt.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def for_office(user, *, limit: int = 50) -> list[dict]:
    """The latest attempts an office may see, each with where the person is registered: the village
    when it lies within the office's own scope, else only that it is in another county."""
    shown = list(
        RegisterAttempt.objects.visible_to(user)
        .select_related("attempted_by", "batch", "registered_village__parent")
        .order_by("-attempted_at", "-pk")[:limit]
    )
    codes = {a.registered_village_id for a in shown}
    visible = set(Region.objects.visible_to(user).filter(code__in=codes).values_list("code", flat=True))
    return [
        {
            "attempt": a,
            "where": (
                f"{a.registered_village.parent.name if a.registered_village.parent else ''}"
                f"{a.registered_village.name}"
            )
            if a.registered_village_id in visible
            else None,
        }
        for a in shown
    ]
