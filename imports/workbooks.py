"""Workbooks the import hands out: the blank template, the error workbook, the export.

The export writes the layout-1 roster (户表 + 成员表) with the importer's own
column names, so an exported file imports back unchanged.
"""

import datetime

from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from households.models import Member, Region
from shuanglian.lib import excel

from .common import VOCABULARIES
from .headers import LABELS, find_header_row
from .reader import open_sheets

# How often (in rows) a background export tells its job how far it got.
PROGRESS_EVERY = 1000

HOUSEHOLD_COLUMNS = [
    "county",
    "township",
    "village",
    "group",
    "head_name",
    "id_number",
    "size",
    "phone",
    "category",
    "main_cause",
    "other_causes",
    "income",
    "housing",
    "status",
]
MEMBER_COLUMNS = [
    "head_id",
    "name",
    "id_number",
    "relation",
    "ethnicity",
    "education",
    "schooling",
    "health",
    "disability",
    "labour",
    "medical",
    "pension",
]
ID_COLUMNS = {"id_number", "head_id", "phone"}
NOTES = {
    "county": "县（市、区）的全称，如 通渭县",
    "township": "乡（镇）的全称，如 马营镇",
    "village": "村名，可写 XX村 或 XX村民委员会",
    "group": "社（组），如 3社",
    "head_name": "户主姓名",
    "head_id": "户主的18位身份证号码（本列已设为文本格式）",
    "id_number": "18位身份证号码；本列已设为文本格式，请勿改成数字，否则末几位会丢失",
    "size": "家庭人口数，应等于成员表中该户的人数",
    "phone": "手机或固定电话",
    "other_causes": "可填多个，用顿号分隔，如 因病、缺资金",
    "income": "人均纯收入（元），填数字",
    "medical": "填 是 或 否",
    "pension": "填 是 或 否",
}
EXAMPLE_HOUSEHOLD = {
    "county": "通渭县",
    "township": "马营镇",
    "village": "东关村",
    "group": "3社",
    "head_name": "张三",
    "id_number": "621121197001010011",
    "size": 2,
    "phone": "13809310001",
    "category": "一般贫困户",
    "main_cause": "因病",
    "other_causes": "缺资金",
    "income": 3200,
    "housing": "安全住房",
    "status": "在册",
}
EXAMPLE_MEMBER = {
    "head_id": "621121197001010011",
    "name": "张三",
    "id_number": "621121197001010011",
    "relation": "户主",
    "ethnicity": "汉族",
    "education": "初中",
    "schooling": "非在校生",
    "health": "健康",
    "labour": "普通劳动力",
    "medical": "是",
    "pension": "否",
}
# The one-row-per-person layout (the 建档立卡 export): household fields on the 户主 row.
PERSON_COLUMNS = [
    "county",
    "township",
    "village",
    "group",
    "name",
    "id_number",
    "relation",
    "ethnicity",
    "education",
    "schooling",
    "health",
    "disability",
    "labour",
    "medical",
    "pension",
    "category",
    "main_cause",
    "other_causes",
    "income",
    "housing",
    "size",
    "phone",
    "status",
]
EXAMPLE_PERSON = {
    **EXAMPLE_MEMBER,
    **{key: value for key, value in EXAMPLE_HOUSEHOLD.items() if key != "head_name"},
}
CADRE_COLUMNS = ["unit", "name", "phone", "post", "rank", "cadre_category", "cadre_status"]
LINK_COLUMNS = ["unit", "county", "township", "village", "started_on"]
PAIRING_COLUMNS = ["unit", "cadre_name", "cadre_phone", "head_id", "head_name", "role", "started_on"]
NOTES.update(
    {
        "unit": "单位全称，须已在系统中登记，如 通渭县农业农村局",
        "name": "姓名",
        "post": "职务，如 副局长",
        "cadre_name": "干部姓名，须已在该单位的干部名册中",
        "cadre_phone": "同一单位有重名干部时必填，用于区分",
        "started_on": "日期，如 2026-03-01（可填日期格式或文本）",
        "cadre_status": "在岗、调离或退休；有联系户的干部须先办理交接",
    }
)
EXAMPLE_CADRE = {
    "unit": "通渭县农业农村局",
    "name": "李文华",
    "phone": "13809310002",
    "post": "副局长",
    "rank": "科级",
    "cadre_category": "公务员",
    "cadre_status": "在岗",
}
EXAMPLE_LINK = {
    "unit": "通渭县农业农村局",
    "county": "通渭县",
    "township": "马营镇",
    "village": "东关村",
    "started_on": datetime.date(2026, 3, 1),
}
EXAMPLE_PAIRING = {
    "unit": "通渭县农业农村局",
    "cadre_name": "李文华",
    "cadre_phone": "13809310002",
    "head_id": "621121197001010011",
    "head_name": "张三",
    "role": "帮扶责任人",
    "started_on": datetime.date(2026, 3, 1),
}
NOTES_PERSON = {
    "relation": "每户先写“户主”一行，家庭成员紧随其后；也可加“户编号”或“户主身份证号”列来分户",
    "size": "家庭人口数（只在户主行填写），应等于该户的行数",
    "category": "只在户主行填写；从下拉列表中选择",
}
# Template → its sheets: (title, columns, example row). "persons" is the households' other layout.
TEMPLATE_SHEETS = {
    "households": [
        ("农户", HOUSEHOLD_COLUMNS, EXAMPLE_HOUSEHOLD),
        ("家庭成员", MEMBER_COLUMNS, EXAMPLE_MEMBER),
    ],
    "persons": [("花名册", PERSON_COLUMNS, EXAMPLE_PERSON)],
    "cadres": [("干部名册", CADRE_COLUMNS, EXAMPLE_CADRE)],
    "links": [("联村关系", LINK_COLUMNS, EXAMPLE_LINK)],
    "pairings": [("结对关系", PAIRING_COLUMNS, EXAMPLE_PAIRING)],
}
ID_COLUMNS |= {"cadre_phone"}
# The columns that find a kind's header row (the error workbook reads the file again).
ANCHORS = {
    "households": {"id_number", "head_id"},
    "cadres": {"unit"},
    "links": {"unit"},
    "pairings": {"cadre_name", "head_id"},
}
BOLD = Font(bold=True)
GREY = Font(italic=True, color="808080")
BAD = PatternFill("solid", fgColor="FFC7CE")


# The template's name in its download link and file name.
TEMPLATE_LABELS = {
    "households": "农户（一户一行）",
    "persons": "农户（一人一行）",
    "cadres": "干部名册",
    "links": "联村关系",
    "pairings": "结对关系",
}


def household_layouts() -> list[dict]:
    """The two household layouts as the import page lists them: each sheet's columns, the
    required ones marked, from the same lists the templates and the importer use."""
    from .households import REQUIRED

    def columns(keys, required):
        return [{"label": LABELS[key], "required": key in required} for key in keys]

    return [
        {
            "template": "households",
            "title": "一户一行（户表 + 成员表）",
            "how": "户表每户一行；成员表（可选）每人一行，用“户主身份证号”对应到户。",
            "sheets": [
                ("户表", columns(HOUSEHOLD_COLUMNS, REQUIRED["households"])),
                ("成员表", columns(MEMBER_COLUMNS, REQUIRED["members"])),
            ],
        },
        {
            "template": "persons",
            "title": "一人一行（建档立卡导出的格式）",
            "how": "每人一行，户的信息（贫困户属性、致贫原因、人均纯收入、家庭人口）填在户主行。"
            "有“户编号”列时按户编号分户，"
            "否则有“户主身份证号”列时按它分户，都没有时每户从“户主”行开始、成员行紧随其后。",
            "sheets": [
                ("花名册", columns(["household_no", "head_id", *PERSON_COLUMNS], REQUIRED["persons"]))
            ],
        },
    ]


def template_bytes(kind: str) -> bytes:
    """A blank roster: text-formatted ID columns, drop-downs for the vocabularies, a note per column, an
    example row."""
    book = excel.new_workbook(write_only=False)
    options = book.create_sheet("选项")
    options.sheet_state = "hidden"  # the importer ignores hidden sheets
    ranges = {}
    for column, (key, values) in enumerate(VOCABULARIES.items(), start=1):
        letter = get_column_letter(column)
        excel.put(options, 1, column, LABELS[key])
        for row, value in enumerate(values, start=2):
            excel.put(options, row, column, value)
        ranges[key] = f"选项!${letter}$2:${letter}${len(values) + 1}"
    ranges["medical"] = ranges["pension"] = '"是,否"'
    for position, (title, columns, example) in enumerate(TEMPLATE_SHEETS[kind]):
        if position == 0:
            sheet = book.active
            sheet.title = title
        else:
            sheet = book.create_sheet(title, position)
        excel.append(sheet, ["序号"] + [LABELS[key] for key in columns])
        excel.append(sheet, ["示例"] + [example.get(key) for key in columns])
        for index, key in enumerate(columns, start=2):
            letter = get_column_letter(index)
            header = sheet.cell(1, index)
            header.font = BOLD
            note = (NOTES_PERSON.get(key) if kind == "persons" else None) or NOTES.get(
                key, f"从下拉列表中选择{LABELS[key]}"
            )
            header.comment = Comment(note, "双联系统")
            sheet.cell(2, index).font = GREY
            sheet.column_dimensions[letter].width = 20 if key in ID_COLUMNS else 12
            if key in ID_COLUMNS:
                for row in range(2, 1002):
                    sheet.cell(row, index).number_format = "@"
            if key in ranges:
                validation = DataValidation(type="list", formula1=ranges[key], allow_blank=True)
                validation.error = f"请从下拉列表中选择{LABELS[key]}"
                validation.showErrorMessage = True
                sheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}1001")
            if key == "started_on":
                validation = DataValidation(
                    type="date",
                    operator="between",
                    formula1="DATE(2000,1,1)",
                    formula2="DATE(2100,12,31)",
                    allow_blank=True,
                )
                validation.error = "请填写日期，如 2026-03-01"
                validation.showErrorMessage = True
                sheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}1001")
                for row in range(2, 1002):
                    sheet.cell(row, index).number_format = "yyyy-mm-dd"
        sheet.cell(1, 1).comment = Comment("“示例”行导入时会被跳过，可以删除", "双联系统")
        sheet.freeze_panes = "A2"
    return excel.workbook_bytes_of(book)


def error_workbook_bytes(data: bytes, filename: str, errors: list[dict], kind: str = "households") -> bytes:
    """The uploaded file again, to be corrected in place and uploaded again: each sheet the import
    reads, from its header row (the original column names, 错误说明 in front), then every row of
    it in order (blank lines kept, so that households stay grouped), the error text on the rows
    with errors and their bad cells in red. An import is all or nothing, so the good rows are
    kept too: the corrected workbook brings in the whole file. Title lines above the header are
    left out; a problem of the sheet as a whole (a missing column) is a line above the header."""
    by_sheet = {}
    for error in errors:
        by_sheet.setdefault(error["sheet"], {}).setdefault(error["row"], []).append(error)
    book = excel.new_workbook()
    for sheet in open_sheets(data, filename=filename):
        header = find_header_row(sheet.rows, anchors=ANCHORS[kind])
        if header is None:
            continue
        _number, header_cells, mapping = header
        rows_errors = by_sheet.get(sheet.name, {})
        out = book.create_sheet(sheet.name[:31])
        label_to_index = {LABELS[key]: index for key, index in mapping.items()}
        text_columns = {index for key, index in mapping.items() if key in ID_COLUMNS or key == "household_no"}
        if 0 in rows_errors:
            excel.append(
                out, [excel.cell(out, "本表：" + "；".join(e["message"] for e in rows_errors[0]), bold=True)]
            )
        excel.append(
            out,
            [excel.cell(out, "错误说明", bold=True)]
            + [excel.cell(out, value, bold=True) for value in header_cells],
        )
        for number, cells in sheet.rows:
            found = rows_errors.get(number)
            if found is None:
                excel.append(
                    out,
                    [None]
                    + [
                        excel.cell(out, value, text=True) if index in text_columns else value
                        for index, value in enumerate(cells)
                    ],
                )
                continue
            bad = {label_to_index.get(e["column"]) for e in found}
            message = "；".join(
                f"“{e['column']}”列：{e['message']}" if e["column"] else e["message"] for e in found
            )
            excel.append(
                out,
                [excel.cell(out, message, fill=BAD)]
                + [
                    excel.cell(out, value, text=True, fill=BAD if index in bad else None)
                    for index, value in enumerate(cells)
                ],
            )
    if not book.worksheets:
        excel.append(book.create_sheet("错误"), ["没有错误"])
    return excel.workbook_bytes_of(book)


def _row(sheet, values: dict, columns: list[str]) -> list:
    """One exported row: IDs and phones as text-formatted cells (so that Excel keeps them text when
    someone edits them), every other value plain: a styled cell per value cost most of the export."""
    return [
        excel.cell(sheet, values[key], text=True) if key in ID_COLUMNS else values[key] for key in columns
    ]


def export_households_bytes(households, progress=None) -> bytes:
    """Households (a scoped queryset) with their members, as a roster the importer reads back unchanged.

    `progress(done, total)`, when given, hears how far it got (a background export's bar): the
    households and then their members, counted as rows of the two sheets."""
    households = households.order_by("village_id", "group", "head_name", "pk")
    total = 0
    if progress is not None:
        total = households.count() + Member.objects.filter(household__in=households.values("pk")).count()
        progress(0, total)
    done = 0
    codes = set(households.values_list("village_id", flat=True))
    wanted = codes | {c[:9] + "000" for c in codes} | {c[:6] + "000000" for c in codes}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    sizes = {}
    book = excel.new_workbook()
    sheet = book.create_sheet("农户")
    excel.append(sheet, [excel.cell(sheet, LABELS[key], bold=True) for key in HOUSEHOLD_COLUMNS])
    members_sheet = book.create_sheet("家庭成员")
    excel.append(members_sheet, [excel.cell(members_sheet, LABELS[key], bold=True) for key in MEMBER_COLUMNS])
    from django.db.models import Count

    for household in households.annotate(member_count=Count("members")).iterator(chunk_size=2000):
        code = household.village_id
        sizes[household.pk] = household.head_id_number
        values = {
            "county": names.get(code[:6] + "000000", ""),
            "township": names.get(code[:9] + "000", ""),
            "village": names.get(code, ""),
            "group": household.group,
            "head_name": household.head_name,
            "id_number": household.head_id_number,
            "size": household.member_count,
            "phone": household.phone,
            "category": household.category,
            "main_cause": household.main_cause,
            "other_causes": "、".join(household.other_causes or []),
            "income": float(household.income_per_head) if household.income_per_head is not None else None,
            "housing": household.housing,
            "status": household.status,
        }
        excel.append(sheet, _row(sheet, values, HOUSEHOLD_COLUMNS))
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    members = Member.objects.filter(household__in=households.values("pk")).order_by(
        "household_id", "birth_date", "pk"
    )
    for member in members.iterator(chunk_size=5000):
        values = {
            "head_id": sizes.get(member.household_id, ""),
            "name": member.name,
            "id_number": member.id_number,
            "relation": member.relation,
            "ethnicity": member.ethnicity,
            "education": member.education,
            "schooling": member.schooling,
            "health": member.health,
            "disability": member.disability,
            "labour": member.labour,
            "medical": "是" if member.has_medical_insurance else "否",
            "pension": "是" if member.has_pension_insurance else "否",
        }
        excel.append(members_sheet, _row(members_sheet, values, MEMBER_COLUMNS))
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    return excel.workbook_bytes_of(book)
