"""Village links (联村): one row per unit and village (单位, 县, 乡(镇), 村, 开始日期).

The village is resolved by name within the user's scope, like a household's;
the unit may be seated anywhere (a provincial unit links a county's village),
since what the user controls is the village. An open link for the same unit and
village is left as it is; a new one is opened through `pairing.services.link_village`.
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from households.models import Region
from pairing import services as pairing_services
from pairing.models import Unit, VillageLink

from .cadres import resolve_units
from .common import (
    Collector,
    ImportResult,
    Refused,
    cell,
    clean_text,
    describe,
    finish,
    one_transaction,
    parse_date,
    read_table,
)
from .villages import resolve_villages

REQUIRED = ("unit", "county", "township", "village", "started_on")
LOCATION = ("county", "township", "village")


@dataclass
class LinkRow:
    sheet: str
    row: int
    unit_name: str
    location: tuple  # (county, township, village) names
    started_on: datetime.date | None
    village_id: str | None = None  # set by resolve_villages


def _read(data, filename, errors, progress, xlsx_engine):
    table = read_table(
        data,
        filename=filename,
        anchors={"unit"},
        required=REQUIRED,
        errors=errors,
        what=_("联村名单"),
        progress=progress,
        xlsx_engine=xlsx_engine,
    )
    rows = []
    for sheet, number, cells, mapping in table:
        unit_name = clean_text(cell(cells, mapping, "unit"), compact=True)
        if not unit_name:
            errors.add(sheet, number, "unit", "", _("单位不能为空"))
        location = tuple(clean_text(cell(cells, mapping, key), compact=True) for key in LOCATION)
        if not all(location):
            errors.add(sheet, number, "village", "", _("县、乡(镇)、村都不能为空"))
        started_on = parse_date(cell(cells, mapping, "started_on"), errors, sheet, number, "started_on")
        rows.append(LinkRow(sheet, number, unit_name, location, started_on))
    return rows


def import_links(
    data: bytes,
    *,
    user,
    filename: str = "",
    dry_run: bool = False,
    progress=None,
    xlsx_engine: str = "calamine",
) -> ImportResult:
    """Check a list of unit–village links and, if every row is valid and not dry_run, open the new ones."""
    errors = Collector()
    result = ImportResult(noun=_("联村关系"))
    rows = _read(data, filename, errors, progress, xlsx_engine)
    result.rows = len(rows)
    units = resolve_units([(r.sheet, r.row, r.unit_name) for r in rows], Unit.objects.all(), errors)
    resolve_villages(rows, user, errors)
    ready = [row for row in rows if row.unit_name in units and row.village_id]
    open_links = {
        (link.unit_id, link.village_id): link
        for link in VillageLink.objects.open().filter(
            unit_id__in={units[row.unit_name].pk for row in ready},
            village_id__in={row.village_id for row in ready},
        )
    }
    villages = Region.objects.in_bulk({row.village_id for row in ready})
    seen = {}
    for row in ready:
        key = (units[row.unit_name].pk, row.village_id)
        if key in seen:
            errors.add(
                row.sheet,
                row.row,
                "village",
                row.location[2],
                _("同一单位与村的联系在第%(row)d行已出现过") % {"row": seen[key]},
            )
        seen[key] = row.row
    counts = dict.fromkeys(["new", "changed", "unchanged"], 0)
    with one_transaction(result, errors, dry_run=dry_run):
        if errors.count:
            raise Refused
        for row in ready:
            unit = units[row.unit_name]
            link = open_links.get((unit.pk, row.village_id))
            if link is None:
                counts["new"] += 1
                pairing_services.link_village(
                    unit=unit, village=villages[row.village_id], started_on=row.started_on, by=user
                )
            elif link.started_on != row.started_on:
                counts["changed"] += 1
                result.changes.append(
                    _("%(unit)s — %(village)s（第%(row)d行）：开始日期 %(old)s → %(new)s")
                    % {
                        "unit": unit.name,
                        "village": row.location[2],
                        "row": row.row,
                        "old": describe(link.started_on),
                        "new": describe(row.started_on),
                    }
                )
                link.started_on = row.started_on
                link.save(update_fields=["started_on"])
            else:
                counts["unchanged"] += 1
    return finish(result, errors, counts)
