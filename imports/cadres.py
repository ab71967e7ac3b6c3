"""Cadre rosters: one row per cadre of a unit (单位, 姓名, 手机, 职务, 职级, 人员类别, 状态).

A cadre has no ID number in the system, so a row is matched to a cadre by its
unit and name, and by phone where a unit has two cadres of one name. Units are
not created here: a row naming a unit the user cannot see is an error.
Leaving (调离/退休) goes through `pairing.services.set_cadre_status`, the same
check as the cadre page, so a cadre with households is never stranded.
"""

import difflib

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from pairing import services as pairing_services
from pairing import standings as pairing_standings
from pairing.models import Cadre, Unit

from .common import (
    Collector,
    ImportResult,
    Refused,
    cell,
    clean_text,
    describe,
    finish,
    limited,
    one_transaction,
    parse_vocab,
    read_table,
)

REQUIRED = ("unit", "name", "rank", "cadre_category")
FIELDS = {
    "phone": "phone",
    "post": "post",
    "rank": "rank",
    "cadre_category": "category",
    "cadre_status": "status",
}
_VERBOSE = {f.attname: str(f.verbose_name) for f in Cadre._meta.concrete_fields}


def _suggest(name, candidates):
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.4)
    return _("，是否是：%(names)s？") % {"names": "、".join(close)} if close else ""


def resolve_units(cells, units, errors: Collector, key="unit"):
    """Unit name → Unit among `units` (a scoped queryset) for (sheet, row, name) cells,
    recording unknown and ambiguous names once each."""
    by_name = {}
    for unit in units.select_related("region"):
        by_name.setdefault(unit.name, []).append(unit)
    found = {}
    for sheet, number, name in cells:
        if not name or name in found:
            continue
        candidates = by_name.get(name, [])
        if len(candidates) == 1:
            found[name] = candidates[0]
        elif candidates:
            errors.add(
                sheet,
                number,
                key,
                name,
                _("有多个单位叫“%(name)s”（%(places)s），无法确定")
                % {"name": name, "places": "、".join(u.region.name for u in candidates)},
            )
        else:
            errors.add(
                sheet,
                number,
                key,
                name,
                _("找不到单位“%(name)s”，或不在您的管辖范围内；单位须先在系统中登记") % {"name": name}
                + _suggest(name, by_name),
            )
    return found


def _read(data, filename, errors, progress, xlsx_engine):
    table = read_table(
        data,
        filename=filename,
        anchors={"unit"},
        required=REQUIRED,
        errors=errors,
        what=_("干部名册"),
        progress=progress,
        xlsx_engine=xlsx_engine,
    )
    rows = []
    for sheet, number, cells, mapping in table:
        if "cadre_status" not in mapping and "status" in mapping:
            mapping["cadre_status"] = mapping["status"]
        values = {}
        name = clean_text(cell(cells, mapping, "name"), compact=True)
        if not name:
            errors.add(sheet, number, "name", "", _("姓名不能为空"))
        unit_name = clean_text(cell(cells, mapping, "unit"), compact=True)
        if not unit_name:
            errors.add(sheet, number, "unit", "", _("单位不能为空"))
        for key in ("phone", "post"):
            if key in mapping:
                values[FIELDS[key]] = limited(
                    clean_text(cell(cells, mapping, key), compact=True),
                    20 if key == "phone" else 64,
                    errors,
                    sheet,
                    number,
                    key,
                )
        for key in ("rank", "cadre_category", "cadre_status"):
            if key in mapping:
                value = parse_vocab(
                    key, cell(cells, mapping, key), errors, sheet, number, required=key != "cadre_status"
                )
                if value:
                    values[FIELDS[key]] = value
        rows.append(
            {
                "sheet": sheet,
                "row": number,
                "name": limited(name, 32, errors, sheet, number, "name"),
                "unit_name": unit_name,
                "values": values,
            }
        )
    return rows


def _match(rows, units, errors):
    """Pair each row with its cadre (or None for a new one); two rows for one cadre is an error."""
    unit_ids = {unit.pk for unit in units.values()}
    known = {}
    for cadre in Cadre.objects.filter(unit_id__in=unit_ids):
        known.setdefault((cadre.unit_id, cadre.name), []).append(cadre)
    seen = {}
    for row in rows:
        unit = units.get(row["unit_name"])
        if unit is None or not row["name"]:
            continue
        row["unit"] = unit
        same_name = known.get((unit.pk, row["name"]), [])
        phone = row["values"].get("phone", "")
        if len(same_name) > 1:
            same_name = [c for c in same_name if phone and c.phone == phone]
            if len(same_name) != 1:
                errors.add(
                    row["sheet"],
                    row["row"],
                    "phone",
                    phone,
                    _("%(unit)s有多名干部叫%(name)s，请填写其手机号码以便区分")
                    % {"unit": unit.name, "name": row["name"]},
                )
                continue
        row["cadre"] = same_name[0] if same_name else None
        identity = (unit.pk, row["name"], phone if len(known.get((unit.pk, row["name"]), [])) > 1 else "")
        if identity in seen:
            errors.add(
                row["sheet"],
                row["row"],
                "name",
                row["name"],
                _("同一干部在第%(row)d行已出现过") % {"row": seen[identity]},
            )
        seen[identity] = row["row"]


def import_cadres(
    data: bytes,
    *,
    user,
    filename: str = "",
    dry_run: bool = False,
    progress=None,
    xlsx_engine: str = "calamine",
) -> ImportResult:
    """Check a unit's cadre roster and, if every row is valid and not dry_run, write it all."""
    errors = Collector()
    result = ImportResult(noun=_("干部"))
    rows = _read(data, filename, errors, progress, xlsx_engine)
    result.rows = len(rows)
    units = resolve_units(
        [(r["sheet"], r["row"], r["unit_name"]) for r in rows], Unit.objects.visible_to(user), errors
    )
    _match(rows, units, errors)
    counts = dict.fromkeys(["new", "changed", "unchanged"], 0)
    touched = []
    with one_transaction(result, errors, dry_run=dry_run):
        if errors.count:
            raise Refused
        for row in rows:
            cadre, values = row["cadre"], row["values"]
            if cadre is None:
                counts["new"] += 1
                if not dry_run:
                    created = Cadre.objects.create(unit=row["unit"], name=row["name"], **values)
                    touched.append(created.pk)
                continue
            diffs = [
                (name, getattr(cadre, name), value)
                for name, value in values.items()
                if getattr(cadre, name) != value
            ]
            if not diffs:
                counts["unchanged"] += 1
                continue
            counts["changed"] += 1
            for name, before, after in diffs:
                result.changes.append(
                    _("%(unit)s %(name)s（第%(row)d行）：%(field)s %(old)s → %(new)s")
                    % {
                        "unit": row["unit"].name,
                        "name": cadre.name,
                        "row": row["row"],
                        "field": _VERBOSE[name],
                        "old": describe(before),
                        "new": describe(after),
                    }
                )
            status = values.pop("status", cadre.status)
            for name, value in values.items():
                setattr(cadre, name, value)
            cadre.save(update_fields=[*values, "updated_at"])
            touched.append(cadre.pk)
            if status != cadre.status:
                try:
                    pairing_services.set_cadre_status(cadre=cadre, status=status)
                except ValidationError as error:
                    errors.add(row["sheet"], row["row"], "cadre_status", status, error.messages[0])
        # The coverage counts follow a cadre's rank, category and status (pairing/standings.py).
        pairing_standings.restate(touched)
    return finish(result, errors, counts)
