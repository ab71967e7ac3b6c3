"""Household rosters: the two layouts, validation, the plan and the bulk write.

Layout 1: a household sheet (one row per household) and, optionally, a member
sheet keyed by the head's ID. Layout 2: one row per person (it has 与户主关系),
grouped by 户编号, else by 户主身份证号, else from each 户主 row to the next;
household fields on the head's row. Both are recognised from their headers.

`import_households` reads the whole file, checks every row, compares it with
the database and, unless it is a dry run or anything was wrong, writes the
whole file in one transaction. Nothing is ever deleted: members the database
has and the file lacks are reported. A first import on PostgreSQL is written
while it is read (imports/early.py) and committed only if that would have been
the outcome; otherwise the same rows take this ordinary path.
"""

import re
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from households import moves
from households.choices import Relation
from households.models import Household, Member
from shuanglian.lib import idcard
from shuanglian.lib.history import record_bulk

from .bulk import OneOf, insert_rows
from .common import (
    MAX_ERRORS,
    VOCABULARIES,
    Collector,
    ImportResult,
    Refused,
    blank,
    cell,
    clean_text,
    collector_paused,
    describe,
    limited,
    missing_columns,
    parse_bool,
    parse_decimal,
    parse_id,
    parse_int,
    parse_vocab,
    same,
)
from .early import EarlyWriter
from .headers import LABELS, find_header
from .reader import FileRefused, open_sheets, renamed_text_hint
from .rows import PLAIN_HOUSEHOLD_FIELDS, PLAIN_MEMBER_FIELDS, HouseholdRow, PersonRow
from .villages import resolve_villages

_LIST_SPLIT = re.compile(r"[、,，;；/\s]+")

# Model field ← roster field, for what the file may change.
HOUSEHOLD_FIELDS = {
    "group": "group",
    "head_name": "head_name",
    "category": "category",
    "main_cause": "main_cause",
    "other_causes": "other_causes",
    "income": "income_per_head",
    "housing": "housing",
    "phone": "phone",
    "status": "status",
}
MEMBER_FIELDS = {
    "name": "name",
    "relation": "relation",
    "ethnicity": "ethnicity",
    "education": "education",
    "schooling": "schooling",
    "health": "health",
    "disability": "disability",
    "labour": "labour",
    "medical": "has_medical_insurance",
    "pension": "has_pension_insurance",
}
LOCATION = ("county", "township", "village")

REQUIRED = {
    "households": ("county", "township", "village", "head_name", "id_number", "category"),
    "members": ("head_id", "name", "id_number", "relation"),
    "persons": ("county", "township", "village", "name", "id_number", "relation", "category"),
}
SHEET_KIND_LABELS = {"households": "户表", "members": "成员表", "persons": "人员表"}


class HouseholdResult(ImportResult):
    def summary(self) -> str:
        c = self.counts
        return _(
            "农户：新增 %(hh_new)d，变更 %(hh_changed)d，未变 %(hh_same)d；"
            "成员：新增 %(m_new)d，变更 %(m_changed)d，未变 %(m_same)d；文件中缺少的已有成员 %(missing)d 人"
        ) % {
            "hh_new": c.get("households_new", 0),
            "hh_changed": c.get("households_changed", 0),
            "hh_same": c.get("households_unchanged", 0),
            "m_new": c.get("members_new", 0),
            "m_changed": c.get("members_changed", 0),
            "m_same": c.get("members_unchanged", 0),
            "missing": len(self.missing),
        }


# ---------------------------------------------------------------- cleaning


def parse_causes(value, errors, sheet, row):
    text = clean_text(value)
    if not text:
        return []
    causes = [c for c in _LIST_SPLIT.split(text) if c]
    bad = [c for c in causes if c not in VOCABULARIES["main_cause"]]
    if bad:
        errors.add(
            sheet,
            row,
            "other_causes",
            text,
            _("“%(bad)s”不是允许的致贫原因，可填：%(allowed)s（多个用顿号分隔）")
            % {"bad": "、".join(bad), "allowed": "、".join(VOCABULARIES["main_cause"])},
        )
        return None
    return causes


def member_reader(mapping):
    """A function reading one person's member fields from a row: {model field: cleaned value}
    for the columns the file has (a None value means an error was recorded).

    Built once per sheet: the columns' positions are looked up here rather than in every row,
    and each vocabulary column remembers the cells it has accepted (a county roster repeats
    汉族, 初中, 健康 … in 200,000 rows)."""
    name_at = mapping.get("name")
    vocabularies = [
        (
            mapping[key],
            key,
            MEMBER_FIELDS[key],
            key == "relation",
            key in ("ethnicity", "schooling", "health"),
            {},
        )
        for key in ("relation", "ethnicity", "education", "schooling", "health", "disability", "labour")
        if key in mapping
    ]
    flags = [(mapping[key], key, MEMBER_FIELDS[key]) for key in ("medical", "pension") if key in mapping]

    def read(cells, errors, sheet, row) -> dict:
        width = len(cells)
        values = {}
        if name_at is not None:
            name = clean_text(cells[name_at] if name_at < width else None, compact=True)
            if not name:
                errors.add(sheet, row, "name", "", _("姓名不能为空"))
            values["name"] = name if len(name) <= 32 else limited(name, 32, errors, sheet, row, "name")
        for at, key, field_name, required, default_when_blank, accepted in vocabularies:
            raw = cells[at] if at < width else None
            value = accepted.get(raw)
            if value is None:
                value = parse_vocab(key, raw, errors, sheet, row, required=required)
                if value and type(raw) is str:
                    accepted[raw] = value
                elif value == "" and default_when_blank:
                    continue  # blank: the model's default on create, unchanged on update
            values[field_name] = value
        for at, key, field_name in flags:
            value = parse_bool(cells[at] if at < width else None, errors, sheet, row, key)
            if value is not None:
                values[field_name] = value
        return values

    return read


def household_values(cells, mapping, errors, sheet, row) -> dict:
    values = {}
    if "head_name" in mapping:
        values["head_name"] = limited(
            clean_text(cell(cells, mapping, "head_name"), compact=True), 32, errors, sheet, row, "head_name"
        )
    if "group" in mapping:
        values["group"] = limited(
            clean_text(cell(cells, mapping, "group"), compact=True), 32, errors, sheet, row, "group"
        )
    for key in ("category", "main_cause", "housing", "status"):
        if key in mapping:
            value = parse_vocab(
                key, cell(cells, mapping, key), errors, sheet, row, required=key == "category"
            )
            if key == "status" and value == "":
                continue
            values[HOUSEHOLD_FIELDS[key]] = value
    if "other_causes" in mapping:
        raw = cell(cells, mapping, "other_causes")
        causes = parse_causes(raw, errors, sheet, row)
        main_cause = values.get("main_cause")
        if causes and main_cause and main_cause in causes:
            # As the household edit form refuses it: the page would read 「因病（其他：因病）」.
            errors.add(
                sheet,
                row,
                "other_causes",
                raw,
                _("「%(cause)s」已是主要致贫原因，不要在其他致贫原因中重复填写") % {"cause": main_cause},
            )
            causes = None
        values["other_causes"] = causes
    if "income" in mapping:
        values["income_per_head"] = parse_decimal(
            cell(cells, mapping, "income"), errors, sheet, row, "income"
        )
    if "phone" in mapping:
        values["phone"] = limited(
            clean_text(cell(cells, mapping, "phone"), compact=True), 20, errors, sheet, row, "phone"
        )
    return values


def classify(mapping: dict) -> str | None:
    """What one row of a sheet is, judged from its columns: a person ("persons": 户编号, or
    与户主关系 with the household's place), a member of a household sheet's household
    ("members": 户主身份证号 without a place), a household ("households"), or "ambiguous"
    (姓名 and 身份证号 but neither 与户主关系 nor 户主姓名: a person or a household per row?).
    A person's sheet lacking 与户主关系 is then told so by its required columns."""
    keys = mapping.keys()
    if "household_no" in keys or ("relation" in keys and ("head_id" not in keys or "village" in keys)):
        return "persons"
    if "head_id" in keys:
        return "members"
    if "name" in keys:  # 姓名 beside 户主姓名 is a person's row without its 与户主关系
        return "persons" if "head_name" in keys else "ambiguous"
    if "head_name" in keys or ("id_number" in keys and "village" in keys):
        return "households"
    return None


def grouping(mapping: dict) -> str:
    """How a one-row-per-person sheet's rows make households: by 户编号, else by 户主身份证号,
    else each household is the rows from its 户主 row to the next one."""
    if "household_no" in mapping:
        return "household_no"
    if "head_id" in mapping:
        return "head_id"
    return "head_rows"


def read_roster(
    data: bytes, *, filename: str, errors: Collector, progress=None, xlsx_engine="calamine", on_household=None
):
    """Parse the file (no database access): the HouseholdRows, the number of rows read, and the
    households refused for their head's ID (to have their places checked too). A
    one-row-per-person sheet hands each household it accepts to on_household as soon as its rows
    are checked."""
    sheets = open_sheets(data, filename=filename, xlsx_engine=xlsx_engine)
    errors.sheets(sheet.name for sheet in sheets)
    found = {}
    for sheet in sheets:
        header = find_header(sheet.rows, anchors={"id_number", "head_id"})
        if header is None:
            continue
        header_row, mapping = header
        kind = classify(mapping)
        if kind and kind not in found:
            found[kind] = (sheet, header_row, mapping)
    # A household sheet's member sheet may carry the place too: with a household sheet beside it,
    # a sheet keyed by 户主身份证号 (and no 户编号) lists its members.
    if "households" in found and "persons" in found and grouping(found["persons"][2]) == "head_id":
        found.setdefault("members", found.pop("persons"))
    if not (found.keys() & {"persons", "households"}) and "ambiguous" in found:
        sheet = found["ambiguous"][0]
        raise FileRefused(
            _(
                "工作表“%(name)s”有“姓名”和“身份证号码”列，但没有“与户主关系”列，也没有“户主姓名”列，无法判断每行是一人还是一户："
                "一人一行的名册请加上“与户主关系”列（户主、配偶、之子……）；一户一行的名册请把姓名列写作“户主姓名”"
            )
            % {"name": sheet.name}
        )
    if not found.keys() & {"persons", "households", "members"}:
        if not sheets:
            raise FileRefused(_("工作簿中没有可见的工作表"))
        raise FileRefused(
            _("在工作表“%(names)s”的前 30 行中没有找到名册表头（至少应有 身份证号码、姓名、村 等列）")
            % {"names": "、".join(s.name for s in sheets)}
            + renamed_text_hint(sheets, filename)
        )
    counter = {"rows": 0}

    def tick():
        counter["rows"] += 1
        if progress and counter["rows"] % 2000 == 0:
            progress(counter["rows"])

    households: dict[str, HouseholdRow] = {}
    # Households refused for their head's ID: their 县/乡/村 are still checked, so that one
    # round of corrections can fix every problem of a row.
    unkeyed: list[HouseholdRow] = []
    orphans = 0  # member-sheet rows that name no household of the file
    if "persons" in found:
        sheet, _header, mapping = found["persons"]
        if missing_columns(REQUIRED["persons"], mapping, sheet.name, errors):
            return [], counter["rows"], []
        orphans = _read_persons(sheet, mapping, errors, households, unkeyed, tick, on_household)
    else:
        if "households" not in found:
            sheet = found["members"][0]
            raise FileRefused(
                _(
                    "只找到成员表“%(name)s”，缺少户表（一户一行，含 户主姓名、身份证号码、村 等列）；"
                    "若是一人一行的名册，请加上“县”“乡(镇)”“村”列"
                )
                % {"name": sheet.name}
            )
        sheet, _header, mapping = found["households"]
        if missing_columns(REQUIRED["households"], mapping, sheet.name, errors):
            return [], counter["rows"], []
        _read_household_sheet(sheet, mapping, errors, households, unkeyed, tick)
        if "members" in found:
            msheet, _header, mmapping = found["members"]
            if not missing_columns(REQUIRED["members"], mmapping, msheet.name, errors):
                orphans = _read_member_sheet(msheet, mmapping, errors, households, tick)
    if progress:
        progress(counter["rows"])
    rows = list(households.values())
    if not rows and not errors.count:
        raise FileRefused(
            _("工作表“%(name)s”在表头下面没有数据")
            % {"name": found.get("persons", found.get("households"))[0].name}
        )
    _check_people(rows, errors, orphans=orphans)
    return rows, counter["rows"], unkeyed


def _read_household_sheet(sheet, mapping, errors, households, unkeyed, tick):
    carried = {key: None for key in LOCATION + ("group",)}
    for number, cells in sheet.rows:
        if blank(cells):
            continue
        tick()
        # Merged cells (a township spanning many rows) come through as blanks below their first row.
        for key in carried:
            value = cell(cells, mapping, key)
            if value not in (None, ""):
                carried[key] = value
            elif key in mapping and carried[key] is not None:
                cells = list(cells) + [None] * (mapping[key] + 1 - len(cells))
                cells[mapping[key]] = carried[key]
        head = parse_id(cell(cells, mapping, "id_number"), errors, sheet.name, number, "id_number")
        values = household_values(cells, mapping, errors, sheet.name, number)
        if not values.get("head_name"):
            errors.add(sheet.name, number, "head_name", "", _("户主姓名不能为空"))
        location = tuple(clean_text(cell(cells, mapping, key), compact=True) for key in LOCATION)
        if not all(location):
            errors.add(sheet.name, number, "village", "", _("县、乡(镇)、村都不能为空"))
        size = (
            parse_int(cell(cells, mapping, "size"), errors, sheet.name, number, "size")
            if "size" in mapping
            else None
        )
        if head is None:
            unkeyed.append(HouseholdRow(sheet.name, number, "", location, values))
            continue
        if head.number in households:
            first = households[head.number]
            errors.add(
                sheet.name,
                number,
                "id_number",
                head.number,
                _("同一户主在第%(row)d行已出现过") % {"row": first.row},
            )
            continue
        hh = HouseholdRow(
            sheet.name,
            number,
            head.number,
            location,
            values,
            declared_size=size,
            size_cell=(sheet.name, number),
        )
        hh.members.append(
            PersonRow(
                sheet.name,
                number,
                head.number,
                head.birth_date,
                head.sex,
                {"name": values.get("head_name", ""), "relation": Relation.HEAD.value},
            )
        )
        households[head.number] = hh


def _read_member_sheet(sheet, mapping, errors, households, tick) -> int:
    """Add the member sheet's people to their households; the number of rows that name no
    household of the file (their head's ID refused or unknown)."""
    orphans = 0
    for hh in households.values():
        hh.members_listed = True
    person_values = member_reader(mapping)
    for number, cells in sheet.rows:
        if blank(cells):
            continue
        tick()
        head_value = cell(cells, mapping, "head_id")
        head = parse_id(head_value, errors, sheet.name, number, "head_id")
        person = parse_id(cell(cells, mapping, "id_number"), errors, sheet.name, number, "id_number")
        values = person_values(cells, errors, sheet.name, number)
        if head is None:
            orphans += 1
            continue
        hh = households.get(head.number)
        if hh is None:
            errors.add(sheet.name, number, "head_id", head.number, _("户表中没有这个户主身份证号"))
            orphans += 1
            continue
        if person is None:
            hh.refused_members += 1
            continue
        row = PersonRow(sheet.name, number, person.number, person.birth_date, person.sex, values)
        if person.number == head.number:
            if values.get("relation") not in (None, Relation.HEAD.value):
                errors.add(
                    sheet.name,
                    number,
                    "relation",
                    values.get("relation"),
                    _("户主本人的与户主关系应为“户主”"),
                )
            hh.members[0] = row  # the head's own row carries the member details
        else:
            if values.get("relation") == Relation.HEAD.value:
                errors.add(
                    sheet.name,
                    number,
                    "relation",
                    "户主",
                    _("该户户主是身份证号 %(id)s 的人，不能再有第二个户主")
                    % {"id": idcard.mask(head.number)},
                )
            hh.members.append(row)
    return orphans


def _read_persons(sheet, mapping, errors, households, unkeyed, tick, on_household) -> int:
    """Read one household at a time: its rows (consecutive, under one 户编号 or 户主身份证号, or
    from its 户主 row to the next) are checked and dropped as soon as the next household starts,
    so a county roster's raw cells are never all held at once. Returns the number of rows
    that went to no household (before the first 户主; under a key used again further down; in a
    household without exactly one 户主), so that no household is also told it lacks them."""
    by = grouping(mapping)
    read_household = _person_household_reader(
        sheet.name, mapping, errors, households, unkeyed, on_household, by
    )
    width = max(mapping.values()) + 1
    orphans = [0]
    runs = _runs_from_heads if by == "head_rows" else _runs_by_key
    for key, run in runs(sheet, mapping, errors, tick, width, by, orphans):
        if not read_household(key, run):
            orphans[0] += len(run)
    return orphans[0]


def _runs_by_key(sheet, mapping, errors, tick, width, by, orphans):
    """(key, rows) per household of a sheet whose rows carry their household's key (户编号 or
    户主身份证号); a blank key cell under a household's first row (a merged cell) continues it."""
    label = LABELS[by]
    run_key, run, repeated = None, [], False
    first_rows: dict[str, int] = {}  # key → the row its household started on
    previous_blank = True
    number_at = mapping[by]
    # Grouped by 户主身份证号, the 户主 row belongs to the household of its own ID whatever its
    # 户主身份证号 cell says (one error for a wrong cell, not a household without its head too).
    own_key = by == "head_id"
    is_head, relation_at, id_at = head_test(), mapping["relation"], mapping["id_number"]
    for number, cells in sheet.rows:
        if blank(cells):
            previous_blank = True
            continue
        tick()
        if len(cells) < width:  # short rows padded once, so that every column can be indexed directly
            cells = cells + [None] * (width - len(cells))
        key = cells[number_at]
        if not (type(key) is str and key.isascii() and key.isalnum()):  # ASCII letters and digits are clean
            key = clean_text(key, compact=True)
        if own_key:
            key = key.upper()  # a lowercase x
        if own_key and is_head(cells[relation_at]):
            own = clean_text(cells[id_at], compact=True).upper()
            if len(own) == 18 and own.isalnum():
                if key and key != own:
                    errors.add(
                        sheet.name,
                        number,
                        "head_id",
                        key,
                        _("户主本人这一行的户主身份证号应与其身份证号码（%(id)s）相同") % {"id": own},
                    )
                key = own  # a blank cell on the 户主's row is his own ID
        if not key:
            if run_key is None or previous_blank:
                errors.add(sheet.name, number, by, "", _("%(column)s不能为空") % {"column": label})
                previous_blank = False
                continue
            key = run_key  # a merged key cell spans the household's rows
        previous_blank = False
        if key != run_key:
            if run:
                yield run_key, run
            run_key, run, repeated = key, [], key in first_rows
            if repeated:  # its rows are not read: the first household under this key is kept
                errors.add(
                    sheet.name,
                    number,
                    by,
                    key,
                    _(
                        "%(column)s“%(no)s”已用于第%(row)d行开始的家庭；同一户的成员应排在一起，不同的户应有不同的%(column)s"
                    )
                    % {"column": label, "no": key, "row": first_rows[key]},
                )
            else:
                first_rows[key] = number
        if not repeated:
            run.append((number, cells))
        else:
            orphans[0] += 1
    if run:
        yield run_key, run


def _runs_from_heads(sheet, mapping, errors, tick, width, by, orphans):
    """(key, rows) per household of a sheet with neither 户编号 nor 户主身份证号: each household is
    its 户主 row and the rows after it, up to the next 户主 row (blank lines between households
    change nothing). Rows before the first 户主 belong to no household: one error says why."""
    is_head = head_test()
    relation_at = mapping["relation"]
    run = None
    for number, cells in sheet.rows:
        if blank(cells):
            continue
        tick()
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        if is_head(cells[relation_at]):
            if run:
                yield run[0][0], run
            run = [(number, cells)]
        elif run is not None:
            run.append((number, cells))
        elif not orphans[0]:
            orphans[0] += 1
            errors.add(
                sheet.name,
                number,
                "relation",
                cells[relation_at],
                _(
                    "这一行之前没有“户主”行，不知属于哪一户：表中没有“户编号”列，也没有“户主身份证号”列，"
                    "所以每户从其“户主”行开始、成员行紧随其后；请把户主行排在本户成员之前，或加上“户编号”列"
                ),
            )
        else:
            orphans[0] += 1
    if run:
        yield run[0][0], run


def head_test():
    """A function telling whether a 与户主关系 cell reads 户主 once cleaned; it remembers the
    cells it has judged (a roster has a handful of them 200,000 times)."""
    head_relation = Relation.HEAD.value
    relations = {}

    def is_head(relation):
        if relation == head_relation:
            return True
        known = relations.get(relation) if type(relation) is str else None
        if known is None:
            known = relation is not None and clean_text(relation, compact=True) == head_relation
            if type(relation) is str and len(relations) < 1_000:
                relations[relation] = known
        return known

    return is_head


def _person_household_reader(sheet_name, mapping, errors, households, unkeyed, on_household, by):
    """A function checking one household's rows (padded to the mapping's width) of a
    one-row-per-person sheet and adding it to `households`."""
    relation_at, id_at, name_at = mapping["relation"], mapping["id_number"], mapping["name"]
    location_at = [mapping[key] for key in LOCATION]
    person_values = member_reader(mapping)
    is_head = head_test()
    label = LABELS.get(by, "")

    places = {}  # cell → cleaned name: a county roster names a few hundred places 200,000 times

    def place(rows, head_cells, at):
        """The head's 县/乡/村, or failing that the first given in the household's rows."""
        value = places.get(head_cells[at])
        if value:  # the usual case: on the head's row, and seen before
            return value
        for cells in (head_cells, *(c for _n, c in rows)):
            raw = cells[at]
            value = places.get(raw)
            if value is None:
                value = clean_text(raw, compact=True)
                if type(raw) is str and len(places) < 10_000:
                    places[raw] = value
            if value:
                return value
        return ""

    def read(key, rows) -> bool:
        """Whether the rows made a household (False: they had no single 户主)."""
        heads = [(n, c) for n, c in rows if is_head(c[relation_at])]
        if len(heads) != 1:  # never when the rows run from one 户主 to the next
            errors.add(
                sheet_name,
                rows[0][0],
                "relation",
                key,
                _("%(column)s“%(no)s”的家庭应有且只有一个“户主”行（现有 %(n)d 个）")
                % {"column": label, "no": key, "n": len(heads)},
            )
            return False
        head_row, head_cells = heads[0]
        head = parse_id(head_cells[id_at], errors, sheet_name, head_row, "id_number")
        values = household_values(head_cells, mapping, errors, sheet_name, head_row)
        values["head_name"] = clean_text(head_cells[name_at], compact=True)[:32]
        location = tuple(place(rows, head_cells, at) for at in location_at)
        if not all(location):
            errors.add(sheet_name, head_row, "village", "", _("户主行的县、乡(镇)、村都不能为空"))
        size = (
            parse_int(cell(head_cells, mapping, "size"), errors, sheet_name, head_row, "size")
            if "size" in mapping
            else None
        )
        hh = HouseholdRow(
            sheet_name,
            head_row,
            head.number if head else "",
            location,
            values,
            members_listed=True,
            declared_size=size,
            size_cell=(sheet_name, head_row),
        )
        members = hh.members
        for number, cells in rows:
            person = (
                head
                if number == head_row
                else parse_id(cells[id_at], errors, sheet_name, number, "id_number")
            )
            person_fields = person_values(cells, errors, sheet_name, number)
            if person is not None:
                members.append(
                    PersonRow(sheet_name, number, person.number, person.birth_date, person.sex, person_fields)
                )
            else:
                hh.refused_members += 1
        if head is None:
            unkeyed.append(hh)
            return True
        if head.number in households:
            errors.add(
                sheet_name,
                head_row,
                "id_number",
                head.number,
                _("同一户主在第%(row)d行已出现过") % {"row": households[head.number].row},
            )
            return True
        households[head.number] = hh
        if on_household is not None:
            on_household(hh)
        return True

    return read


def _check_people(rows: list[HouseholdRow], errors: Collector, *, orphans: int = 0):
    """The same person twice in the file; a declared size that disagrees with the members listed.

    One cause, one error: a household with a member row refused (its ID) is not also told that its
    size disagrees, nor is a household short of members while some member rows named no household
    of the file (a refused or unknown 户主身份证号): those rows' own errors say what to fix."""
    seen = {}
    for hh in rows:
        for person in hh.members:
            earlier = seen.get(person.id_number)
            if earlier is not None and earlier is not person:
                errors.add(
                    person.sheet,
                    person.row,
                    "id_number",
                    person.id_number,
                    _("同一人在文件中出现了两次（另见工作表“%(sheet)s”第%(row)d行）")
                    % {"sheet": earlier.sheet, "row": earlier.row},
                )
            else:
                seen[person.id_number] = person
        if (
            hh.members_listed
            and hh.declared_size is not None
            and hh.declared_size != len(hh.members)
            and not hh.refused_members
            and not (orphans and hh.declared_size > len(hh.members))
        ):
            errors.add(
                hh.size_cell[0],
                hh.size_cell[1],
                "size",
                hh.declared_size,
                _("家庭人口填的是 %(size)d 人，但名册中列出了 %(n)d 人")
                % {"size": hh.declared_size, "n": len(hh.members)},
            )


# Rows per fetch when reading a whole county's members back: a server-side cursor on PostgreSQL,
# so that 200,000 rows are never all held by the driver at once.
STREAMED = 20_000
HOUSEHOLD_COMPARE = ["village_id", *HOUSEHOLD_FIELDS.values()]
MEMBER_COMPARE = list(MEMBER_FIELDS.values())
_VERBOSE = {f.attname: str(f.verbose_name) for f in Household._meta.concrete_fields}
_VERBOSE.update({f"m.{f.attname}": str(f.verbose_name) for f in Member._meta.concrete_fields})
_VERBOSE["village_id"] = "所在村"


def describe_new(households: list[HouseholdRow]) -> list[str]:
    """The preview's lines for the first new households: who, where, how many, from which row."""
    return [
        _("%(head)s户（%(place)s，%(size)d 人，%(category)s；%(sheet)s第%(row)d行）")
        % {
            "head": hh.values.get("head_name", ""),
            "size": len(hh.members),
            "category": hh.values.get("category", ""),
            "place": " ".join(part for part in ("".join(hh.location[1:]), hh.values.get("group")) if part),
            "sheet": hh.sheet,
            "row": hh.row,
        }
        for hh in households[:MAX_ERRORS]
    ]


# The one answer for a person registered outside the user's scope, as head or member, in another
# township or another county: anything more would let a township probe the province's register
# (issue 11, item 6). The county office sees the attempt (imports.models.RegisterAttempt).
FOREIGN_PERSON = gettext_noop("此身份证号不能由您登记，已提请县双联办核实")


def _refuse_foreign(rows: list[HouseholdRow], foreign: dict, errors: Collector, result: ImportResult):
    """Refuse each row naming a person registered outside the scope, once per row, in file order,
    and note the attempt for the county office (result.register_attempts, never in the report)."""
    if not foreign:
        return
    for hh in rows:
        cells = [(hh.sheet, hh.row, hh.head_id, hh.values.get("head_name", ""))]
        cells += [(p.sheet, p.row, p.id_number, p.values.get("name", "")) for p in hh.members]
        done = set()
        for sheet, row, id_number, name in cells:
            if id_number in foreign and (sheet, row) not in done:
                done.add((sheet, row))
                errors.add(sheet, row, "id_number", id_number, _(FOREIGN_PERSON))
                result.register_attempts.append(
                    {
                        "sheet": sheet,
                        "row": row,
                        "id_number": id_number,
                        "name": name,
                        "village": foreign[id_number],
                    }
                )


def _record_changed(model, pks: list, user) -> None:
    """History rows for records changed by bulk_update (which sends no signal), read back whole,
    500 at a time (SQLite's limit on query parameters)."""
    for start in range(0, len(pks), 500):
        record_bulk(model, model.objects.filter(pk__in=pks[start : start + 500]), by=user)


@dataclass
class Comparison:
    """What the database holds of the people a file names, read in a few queries. Plain tuples,
    not model instances, throughout: a county re-import compares 50,000 households and 200,000
    members, and instances cost both time and memory."""

    existing: dict  # head ID → (pk, *HOUSEHOLD_COMPARE), households in the user's scope
    foreign: dict  # ID → the village holding them, for everyone registered outside the scope
    people: dict  # ID → (HouseholdRow, PersonRow), everyone the file lists
    known: set  # IDs of the file's people already registered
    # Changed people: ID → (Member with every compared field set, for bulk_update; [(field, before, after)]).
    member_diffs: dict


@dataclass
class Plan:
    """What an import would write: new rows, and the changed ones with what changes."""

    counts: dict
    new_households: list = field(default_factory=list)  # plain rows for insert_rows
    new_rows: list = field(default_factory=list)  # their HouseholdRows, for the preview
    # (HouseholdRow, Household with every compared field set to its new value, [(field, before, after)])
    changed_households: list = field(default_factory=list)
    changed_hh_fields: set = field(default_factory=set)
    moved_households: list = field(default_factory=list)  # to another village: households.moves
    new_members: list = field(default_factory=list)  # (head ID, PersonRow)
    changed_members: list = field(default_factory=list)  # (PersonRow, old name, Member, diffs)
    changed_m_fields: set = field(default_factory=set)


def _compare(rows: list[HouseholdRow], user, errors: Collector) -> Comparison:
    """Read back what the file's people are in the database, and refuse (in `errors`) each person
    who already belongs to another household the user sees. Writes nothing."""
    heads = [hh.head_id for hh in rows]
    visible = Household.objects.visible_to(user)
    existing = {}
    in_scope = visible.filter(OneOf(F("head_id_number"), heads)).values_list(
        "head_id_number", "pk", *HOUSEHOLD_COMPARE
    )
    for household in in_scope:
        existing[household[0]] = household[1:]
    registered = Household.objects.filter(OneOf(F("head_id_number"), heads)).values_list(
        "head_id_number", "village_id"
    )
    foreign = {head: village for head, village in registered if head not in existing}

    people = {p.id_number: (hh, p) for hh in rows for p in hh.members}
    # Members already in the database, in one query; only the differences are kept (a county
    # re-import reads 200,000 of them): the IDs found, who is in another household, the changes.
    known, moved, member_diffs = set(), {}, {}
    found = Member.objects.filter(OneOf(F("id_number"), people)).values_list(
        "id_number", "pk", "household_id", *MEMBER_COMPARE
    )
    for id_number, pk, household_id, *old in found.iterator(chunk_size=STREAMED):
        hh, person = people[id_number]
        known.add(id_number)
        if household_id != existing.get(hh.head_id, (None,))[0]:
            moved[id_number] = household_id
        before = dict(zip(MEMBER_COMPARE, old))
        if person.values.items() <= before.items():  # unchanged, checked in C: the usual case
            continue
        diffs = [(n, before[n], v) for n, v in person.values.items() if not same(before[n], v)]
        if diffs:
            member_diffs[id_number] = (Member(pk=pk, **before), diffs)
    households_of_moved = (
        {
            pk: (head_id, head_name, village)
            for pk, head_id, head_name, village in Household.objects.filter(
                pk__in=set(moved.values())
            ).values_list("pk", "head_id_number", "head_name", "village_id")
        }
        if moved
        else {}
    )
    elsewhere = {n: pk for n, pk in moved.items() if households_of_moved[pk][0] != people[n][0].head_id}
    visible_ids = set(visible.filter(pk__in=set(elsewhere.values())).values_list("pk", flat=True))
    for id_number, household_pk in elsewhere.items():
        hh, person = people[id_number]
        if household_pk in visible_ids:
            head_id, head_name, _village = households_of_moved[household_pk]
            message = _("此人已是%(head)s户的成员（户主身份证号 %(id)s），一人只能属于一户") % {
                "head": head_name,
                "id": idcard.mask(head_id),
            }
            errors.add(person.sheet, person.row, "id_number", id_number, message)
        else:
            foreign.setdefault(id_number, households_of_moved[household_pk][2])
    return Comparison(existing, foreign, people, known, member_diffs)


def _plan(rows: list[HouseholdRow], comparison: Comparison) -> Plan:
    """Sort the file's households and people into new, changed and unchanged."""
    plan = Plan(
        counts=dict.fromkeys(
            [
                "households_new",
                "households_changed",
                "households_unchanged",
                "members_new",
                "members_changed",
                "members_unchanged",
            ],
            0,
        )
    )
    counts = plan.counts
    now = timezone.now()
    for hh in rows:
        values = {"village_id": hh.village_id, **hh.values}
        old = comparison.existing.get(hh.head_id)
        if old is None:
            counts["households_new"] += 1
            plan.new_households.append(hh.new_household())
            plan.new_rows.append(hh)
            continue
        before = dict(zip(HOUSEHOLD_COMPARE, old[1:]))
        diffs = (
            []
            if values.items() <= before.items()
            else [
                (name, before[name], value) for name, value in values.items() if not same(before[name], value)
            ]
        )
        if not diffs:
            counts["households_unchanged"] += 1
            continue
        counts["households_changed"] += 1
        # Every compared field set, so bulk_update's shared field list writes no stale default.
        changed = Household(pk=old[0], **before)
        for name, _old, new in diffs:
            setattr(changed, name, new)
            plan.changed_hh_fields.add(name)
        changed.updated_at = now
        plan.changed_households.append((hh, changed, diffs))
        if any(diff[0] == "village_id" for diff in diffs):
            plan.moved_households.append(changed.pk)

    for hh in rows:
        for person in hh.members:
            if person.id_number not in comparison.known:
                counts["members_new"] += 1
                plan.new_members.append((hh.head_id, person))
                continue
            if person.id_number not in comparison.member_diffs:
                counts["members_unchanged"] += 1
                continue
            counts["members_changed"] += 1
            changed, diffs = comparison.member_diffs[person.id_number]
            old_name = changed.name
            for name, _old, new in diffs:
                setattr(changed, name, new)
                plan.changed_m_fields.add(name)
            plan.changed_members.append((person, old_name, changed, diffs))
    return plan


def _report(rows: list[HouseholdRow], comparison: Comparison, plan: Plan, result: ImportResult) -> None:
    """The preview: the counts, each changed field, the new households, and the people the database
    has in these households that the file does not list (reported, never deleted)."""
    for hh, changed, diffs in plan.changed_households:
        for name, before, after in diffs:
            result.changes.append(
                _("%(head)s户（%(sheet)s第%(row)d行）：%(field)s %(old)s → %(new)s")
                % {
                    "head": hh.values.get("head_name") or changed.head_name,
                    "sheet": hh.sheet,
                    "row": hh.row,
                    "field": _VERBOSE.get(name, name),
                    "old": describe(before),
                    "new": describe(after),
                }
            )
    for person, old_name, _changed, diffs in plan.changed_members:
        for name, before, after in diffs:
            result.changes.append(
                _("%(name)s（%(sheet)s第%(row)d行）：%(field)s %(old)s → %(new)s")
                % {
                    "name": person.values.get("name") or old_name,
                    "sheet": person.sheet,
                    "row": person.row,
                    "field": _VERBOSE.get(f"m.{name}", name),
                    "old": describe(before),
                    "new": describe(after),
                }
            )

    listing = {hh.head_id: hh for hh in rows if hh.members_listed}
    matched = {comparison.existing[h][0]: h for h in listing if h in comparison.existing}
    if matched:
        # Only the people the file lacks come back, not the whole county's members.
        unlisted = (
            Member.objects.filter(OneOf(F("household_id"), matched))
            .exclude(OneOf(F("id_number"), comparison.people))
            .values_list("household_id", "id_number", "name")
        )
        for household_id, id_number, name in unlisted.iterator(chunk_size=STREAMED):
            hh = listing[matched[household_id]]
            result.missing.append(
                _("%(head)s户的成员 %(name)s（%(id)s）不在本次文件中，系统未删除，如需注销请在农户页面处理")
                % {"head": hh.values.get("head_name", ""), "name": name, "id": idcard.mask(id_number)}
            )
    result.counts = plan.counts
    result.added = describe_new(plan.new_rows)


def _write(plan: Plan, comparison: Comparison, user, result: ImportResult) -> None:
    """Write the plan in bulk: new households and members inserted, changed ones updated."""
    insert_rows(Household, plan.new_households, plain=PLAIN_HOUSEHOLD_FIELDS)
    ids = {head: h[0] for head, h in comparison.existing.items()}
    if plan.new_households:
        ids.update(
            Household.objects.filter(
                OneOf(F("head_id_number"), (h["head_id_number"] for h in plan.new_households))
            ).values_list("head_id_number", "pk")
        )
    result.created_household_ids = [ids[h["head_id_number"]] for h in plan.new_households]
    plan.new_households = []  # a county's rows: let them go before the members are built
    insert_rows(
        Member, (person.new_member(ids[head]) for head, person in plan.new_members), plain=PLAIN_MEMBER_FIELDS
    )
    # bulk_update skips save(): move the versions on here, so an edit form opened before the import
    # is refused rather than saved over it (shuanglian/lib/versions.py).
    changed_households = [changed for _hh, changed, _diffs in plan.changed_households]
    if changed_households:
        for household in changed_households:
            household.version = F("version") + 1
        Household.objects.bulk_update(
            changed_households, sorted(plan.changed_hh_fields | {"updated_at", "version"}), batch_size=500
        )
        moves.moved(plan.moved_households)
        # bulk_update sends no signal: these shared records' history is written here, row by row
        # from the values now stored (new households are recorded by their batch instead).
        _record_changed(Household, [h.pk for h in changed_households], user)
    changed_members = [changed for _person, _name, changed, _diffs in plan.changed_members]
    if changed_members:
        for member in changed_members:
            member.version = F("version") + 1
        Member.objects.bulk_update(
            changed_members, sorted(plan.changed_m_fields | {"version"}), batch_size=500
        )
        _record_changed(Member, [m.pk for m in changed_members], user)
    result.applied = True


def plan_and_write(rows: list[HouseholdRow], user, errors: Collector, result: ImportResult, *, dry_run: bool):
    """Compare with the database, report what would change, and write it in bulk unless dry_run
    or any error. Call inside atomic()."""
    comparison = _compare(rows, user, errors)
    _refuse_foreign(rows, comparison.foreign, errors, result)
    if errors.count:
        result.error_count = errors.count
        result.errors = errors.errors
        return
    plan = _plan(rows, comparison)
    _report(rows, comparison, plan, result)
    if not dry_run:
        _write(plan, comparison, user, result)


def import_households(
    data: bytes,
    *,
    user,
    filename: str = "",
    dry_run: bool = False,
    progress=None,
    xlsx_engine: str = "calamine",
) -> HouseholdResult:
    """Check a household roster and, if every row is valid and not dry_run, write it all.

    Raises FileRefused when the file as a whole cannot be read; row problems are
    returned in the result (and then nothing is written).
    """
    errors = Collector()
    result = HouseholdResult()
    with collector_paused(), EarlyWriter.for_import(user, errors, dry_run=dry_run) or nullcontext() as early:
        rows, result.rows, unkeyed = read_roster(
            data,
            filename=filename,
            errors=errors,
            progress=progress,
            xlsx_engine=xlsx_engine,
            on_household=early.offer if early else None,
        )
        created = early.finish(rows) if early else None
        if created is not None:  # every household was new and is written
            result.counts = {
                "households_new": len(rows),
                "households_changed": 0,
                "households_unchanged": 0,
                "members_new": sum(len(hh.members) for hh in rows),
                "members_changed": 0,
                "members_unchanged": 0,
            }
            result.created_household_ids = created
            result.added = describe_new(rows)
            result.applied = True
        else:
            try:
                with transaction.atomic():
                    resolve_villages(rows + unkeyed, user, errors)
                    plan_and_write(rows, user, errors, result, dry_run=dry_run)
                    if errors.count:
                        raise Refused
            except Refused:
                pass
        del rows
    result.error_count = errors.count
    result.errors = errors.errors
    if errors.count:
        result.applied = False
        result.created_household_ids = []
    return result
