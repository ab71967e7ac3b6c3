"""Header aliases and header-row detection.

Rosters made by hand over years name the same column many ways; each field
lists every name we have met. A header cell is normalised first (full-width
folded, spaces and stars dropped, a trailing unit in brackets removed), so
人均纯收入（元） and 人均纯收入 are one alias.
"""

import re
import unicodedata

ALIASES = {
    "county": ["县", "县区", "县市区", "区县", "县名称"],
    "township": ["乡", "乡镇", "镇", "乡镇街道", "乡名称"],
    "village": ["村", "行政村", "村名", "村名称", "村社区"],
    "group": ["社", "组", "村民小组", "社组", "小组"],
    "household_no": ["户编号", "户号", "户序号", "家庭编号"],
    "head_name": ["户主姓名", "户主"],
    "head_id": ["户主身份证号", "户主身份证号码", "户主证件号码", "户主公民身份号码"],
    "name": ["姓名", "成员姓名"],
    "id_number": ["身份证号", "身份证号码", "证件号码", "公民身份号码", "身份证"],
    "relation": ["与户主关系", "与户主的关系"],
    "size": ["家庭人口", "家庭人口数", "人口数", "家庭成员数"],
    "phone": ["联系电话", "电话", "手机号码", "手机", "联系方式"],
    "category": ["贫困户属性", "户属性", "农户属性"],
    "main_cause": ["主要致贫原因", "致贫原因"],
    "other_causes": ["其他致贫原因"],
    "income": ["人均纯收入", "家庭人均纯收入"],
    "housing": ["住房情况", "住房"],
    "status": ["状态", "户状态"],
    "sex": ["性别"],
    "ethnicity": ["民族"],
    "education": ["文化程度"],
    "schooling": ["在校生状况", "在校情况"],
    "health": ["健康状况"],
    "disability": ["残疾类别", "残疾情况"],
    "labour": ["劳动能力", "劳动技能"],
    "medical": ["参加新农合", "是否参加新农合", "参加大病医疗", "新农合"],
    "pension": ["参加养老保险", "是否参加养老保险", "养老保险"],
    # Cadres, links and pairings.
    "unit": ["单位", "单位名称", "所在单位", "工作单位", "帮扶单位", "联系单位", "联村单位"],
    "post": ["职务"],
    "rank": ["职级", "干部职级"],
    "cadre_category": ["类别", "人员类别", "干部类别", "身份类别"],
    "cadre_status": ["在岗状态", "干部状态"],
    "cadre_name": ["干部姓名", "帮扶干部", "帮扶责任人", "帮扶责任人姓名", "联系干部"],
    "cadre_phone": ["干部手机", "干部手机号码", "干部联系电话", "帮扶责任人电话"],
    "role": ["联系类型", "帮扶类型", "结对类型"],
    "started_on": ["开始日期", "联系日期", "结对日期", "联村日期", "帮扶日期", "起始日期"],
}

# The Chinese name shown in messages and written in templates and exports.
LABELS = {
    "county": "县",
    "township": "乡(镇)",
    "village": "村",
    "group": "社",
    "household_no": "户编号",
    "head_name": "户主姓名",
    "head_id": "户主身份证号",
    "name": "姓名",
    "id_number": "身份证号码",
    "relation": "与户主关系",
    "size": "家庭人口",
    "phone": "联系电话",
    "category": "贫困户属性",
    "main_cause": "主要致贫原因",
    "other_causes": "其他致贫原因",
    "income": "人均纯收入(元)",
    "housing": "住房情况",
    "status": "状态",
    "sex": "性别",
    "ethnicity": "民族",
    "education": "文化程度",
    "schooling": "在校生状况",
    "health": "健康状况",
    "disability": "残疾类别",
    "labour": "劳动能力",
    "medical": "参加新农合",
    "pension": "参加养老保险",
    "unit": "单位",
    "post": "职务",
    "rank": "职级",
    "cadre_category": "人员类别",
    "cadre_status": "在岗状态",
    "cadre_name": "干部姓名",
    "cadre_phone": "干部手机",
    "role": "联系类型",
    "started_on": "开始日期",
}

_BRACKETED_TAIL = re.compile(r"\((元|人|位|18位|户|个)\)$")
_DROP = re.compile(r"[\s*＊:：\u200b\ufeff]")


def normalize_header(value) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _DROP.sub("", text)
    text = _BRACKETED_TAIL.sub("", text)
    # 乡(镇) / 社(组) / 村(社区) / 县(市、区): brackets are part of the alias.
    return text.replace("(", "").replace(")", "").replace("、", "")


_LOOKUP = {normalize_header(alias): key for key, aliases in ALIASES.items() for alias in aliases}

# How far down a sheet the header may sit (title, 填报单位, 填报日期 lines above it).
HEADER_SEARCH_ROWS = 30


def map_header(cells) -> dict[str, int]:
    """Field key → column index for the cells of one row; the first occurrence wins."""
    found = {}
    for index, cell in enumerate(cells):
        key = _LOOKUP.get(normalize_header(cell))
        if key and key not in found:
            found[key] = index
    return found


def find_header(rows, *, anchors: set[str]):
    """Scan the top of a sheet for the first row naming three known fields, one of them an anchor.

    `rows` is the sheet's (number, cells) iterator; the rows after the header are
    left in it. Returns (header row number, {field: column}) or None.
    """
    found = find_header_row(rows, anchors=anchors)
    return None if found is None else (found[0], found[2])


def find_header_row(rows, *, anchors: set[str]):
    """As find_header, with the header row's cells: (number, cells, {field: column}) or None."""
    for count, (number, cells) in enumerate(rows):
        if count >= HEADER_SEARCH_ROWS:
            return None
        mapping = map_header(cells)
        if len(mapping) >= 3 and anchors & set(mapping):
            return number, cells, mapping
    return None
