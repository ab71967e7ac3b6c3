"""Pairings (结对): one row per cadre and household (单位, 干部姓名, 户主身份证号, 联系类型, 开始日期).

The cadre is found within its unit by name (and phone where a unit has two of
one name), the household by its head's ID, both among what the user may see.
Every new pairing is opened through `pairing.services.pair`, row by row inside
the file's one transaction, so the county's rules (limits per rank, linked
villages, one responsible cadre per household, exempt categories) judge each
row against the database and the rows before it, exactly as on the pages.
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from households.models import Household
from pairing import services as pairing_services
from pairing.models import Cadre, Pairing, Unit

from .cadres import resolve_units
from .common import (
    Collector,
    ImportResult,
    cell,
    chunks,
    clean_text,
    describe,
    finish,
    one_transaction,
    parse_date,
    parse_id,
    parse_vocab,
    read_table,
)

REQUIRED = ("unit", "cadre_name", "head_id", "started_on")


@dataclass
class PairingRow:
    sheet: str
    row: int
    unit_name: str
    cadre_name: str
    cadre_phone: str
    head_id: str | None
    role: str | None
    started_on: datetime.date | None


def _read(data, filename, errors, progress, xlsx_engine):
    table = read_table(
        data,
        filename=filename,
        anchors={"cadre_name", "head_id"},
        required=REQUIRED,
        errors=errors,
        what=_("结对名单"),
        progress=progress,
        xlsx_engine=xlsx_engine,
    )
    rows = []
    for sheet, number, cells, mapping in table:
        unit_name = clean_text(cell(cells, mapping, "unit"), compact=True)
        cadre_name = clean_text(cell(cells, mapping, "cadre_name"), compact=True)
        for key, value in (("unit", unit_name), ("cadre_name", cadre_name)):
            if not value:
                errors.add(sheet, number, key, "", _("不能为空"))
        head = parse_id(cell(cells, mapping, "head_id"), errors, sheet, number, "head_id")
        role = Pairing.Role.RESPONSIBLE.value
        if "role" in mapping:
            role = parse_vocab("role", cell(cells, mapping, "role"), errors, sheet, number) or role
        rows.append(
            PairingRow(
                sheet,
                number,
                unit_name,
                cadre_name,
                clean_text(cell(cells, mapping, "cadre_phone"), compact=True),
                head.number if head else None,
                role,
                parse_date(cell(cells, mapping, "started_on"), errors, sheet, number, "started_on"),
            )
        )
    return rows


def _find_cadres(rows, user, errors):
    """(unit name, cadre name, phone) → Cadre, among the cadres the user may see."""
    units = resolve_units(
        [(r.sheet, r.row, r.unit_name) for r in rows], Unit.objects.visible_to(user), errors
    )
    visible = (
        Cadre.objects.visible_to(user)
        .filter(unit_id__in=[u.pk for u in units.values()])
        .select_related("unit")
    )
    by_name = {}
    for cadre in visible:
        by_name.setdefault((cadre.unit_id, cadre.name), []).append(cadre)
    found = {}
    for row in rows:
        unit = units.get(row.unit_name)
        if unit is None or not row.cadre_name:
            continue
        candidates = by_name.get((unit.pk, row.cadre_name), [])
        if len(candidates) > 1:
            candidates = [c for c in candidates if row.cadre_phone and c.phone == row.cadre_phone]
            if len(candidates) != 1:
                errors.add(
                    row.sheet,
                    row.row,
                    "cadre_phone",
                    row.cadre_phone,
                    _("%(unit)s有多名干部叫%(name)s，请填写干部手机以便区分")
                    % {"unit": unit.name, "name": row.cadre_name},
                )
                continue
        if not candidates:
            errors.add(
                row.sheet,
                row.row,
                "cadre_name",
                row.cadre_name,
                _("%(unit)s没有干部“%(name)s”（请先导入干部名册）")
                % {"unit": unit.name, "name": row.cadre_name},
            )
            continue
        found[row.row] = candidates[0]
    return found


def _find_households(rows, user, errors):
    wanted = {row.head_id for row in rows if row.head_id}
    households = {}
    visible = Household.objects.visible_to(user).select_related("village")
    for chunk in chunks(wanted):
        households.update({h.head_id_number: h for h in visible.filter(head_id_number__in=chunk)})
    for row in rows:
        if row.head_id and row.head_id not in households:
            errors.add(
                row.sheet,
                row.row,
                "head_id",
                row.head_id,
                _("找不到户主身份证号为此号码的农户，或该户不在您的管辖范围内"),
            )
    return households


def import_pairings(
    data: bytes,
    *,
    user,
    filename: str = "",
    dry_run: bool = False,
    progress=None,
    xlsx_engine: str = "calamine",
) -> ImportResult:
    """Check a list of cadre–household pairings and, if every row passes the pairing rules, open them all."""
    errors = Collector()
    result = ImportResult(noun=_("结对关系"))
    rows = _read(data, filename, errors, progress, xlsx_engine)
    result.rows = len(rows)
    cadres = _find_cadres(rows, user, errors)
    households = _find_households(rows, user, errors)
    ready = [
        row for row in rows if row.row in cadres and row.head_id in households and row.started_on and row.role
    ]
    current = {}
    for chunk in chunks([households[row.head_id].pk for row in ready]):
        for pairing in Pairing.objects.open().filter(household_id__in=chunk):
            current[(pairing.cadre_id, pairing.household_id)] = pairing
    counts = dict.fromkeys(["new", "changed", "unchanged"], 0)
    with one_transaction(result, errors, dry_run=dry_run):
        for row in ready:
            cadre, household = cadres[row.row], households[row.head_id]
            existing = current.get((cadre.pk, household.pk))
            if existing is None:
                try:
                    pairing_services.pair(
                        cadre=cadre, household=household, started_on=row.started_on, by=user, role=row.role
                    )
                except pairing_services.RuleBroken as broken:
                    for message in broken.messages:
                        errors.add(row.sheet, row.row, "cadre_name", row.cadre_name, message)
                    continue
                counts["new"] += 1
            elif existing.role != row.role:
                errors.add(
                    row.sheet,
                    row.row,
                    "role",
                    row.role,
                    _("%(cadre)s 已作为%(role)s联系该户，如需改变请先结束原关系")
                    % {"cadre": cadre.name, "role": existing.role},
                )
            elif existing.started_on != row.started_on:
                counts["changed"] += 1
                result.changes.append(
                    _("%(cadre)s — %(household)s（第%(row)d行）：开始日期 %(old)s → %(new)s")
                    % {
                        "cadre": cadre.name,
                        "household": household.head_name,
                        "row": row.row,
                        "old": describe(existing.started_on),
                        "new": describe(row.started_on),
                    }
                )
                existing.started_on = row.started_on
                existing.save(update_fields=["started_on"])
            else:
                counts["unchanged"] += 1
    return finish(result, errors, counts)
