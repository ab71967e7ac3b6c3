"""Regenerate the LibreOffice-saved rosters in this folder (needs LibreOffice; CI only reads them).

    .venv/bin/python tests/data/make_libreoffice_files.py

openpyxl writes a small roster in each layout; LibreOffice Calc opens it and saves it
as legacy .xls (BIFF8) and as its own .xlsx, which differ from openpyxl's in ways real
files do (shared strings, styles, numbers).
"""

import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from shuanglian.lib.idcard import make  # noqa: E402


def roster() -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(["马营镇东关村农户花名册"])
    sheet.merge_cells("A1:J1")
    sheet.append(["填报单位：马营镇人民政府", None, None, None, None, "填报日期：2024年3月1日"])
    sheet.append(
        ["户编号", "县", "乡(镇)", "行政村", "组", "姓名", "身份证号", "与户主关系", "户属性", "致贫原因"]
    )
    people = [
        (
            "1",
            "通渭县",
            "马营镇",
            "东关村",
            "1组",
            "陈有才",
            make("621121", datetime.date(1966, 2, 1), 513),
            "户主",
            "低保户",
            "因病",
        ),
        (
            "1",
            None,
            None,
            None,
            None,
            "刘桂兰",
            make("621121", datetime.date(1968, 7, 9), 524),
            "配偶",
            None,
            None,
        ),
        None,
        (
            "2",
            "通渭县",
            "马营镇",
            "东关村民委员会",
            "2组",
            "马福",
            make("621121", datetime.date(1980, 12, 30), 537),
            "户主",
            "一般贫困户",
            "缺资金",
        ),
    ]
    for row in people:
        sheet.append(list(row) if row else [])
    for cell in sheet["G"]:
        cell.number_format = "@"
    hidden = book.create_sheet("作废")
    hidden.append(["户编号", "姓名", "身份证号", "与户主关系"])
    hidden.sheet_state = "hidden"
    return book


def main():
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "roster_libreoffice.xlsx"
        roster().save(source)
        for target, filter_name in (("xls", "MS Excel 97"), ("xlsx", "Calc MS Excel 2007 XML")):
            out = Path(tmp) / target
            out.mkdir()
            subprocess.run(
                [
                    "soffice",
                    "--headless",
                    "--convert-to",
                    f"{target}:{filter_name}",
                    "--outdir",
                    str(out),
                    str(source),
                ],
                check=True,
                capture_output=True,
            )
            (HERE / f"roster_libreoffice.{target}").write_bytes(
                (out / f"roster_libreoffice.{target}").read_bytes()
            )
            print("wrote", HERE / f"roster_libreoffice.{target}")


if __name__ == "__main__":
    main()
