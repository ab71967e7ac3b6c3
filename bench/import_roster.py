"""Roster import at county scale: 50,000 households with 200,000 members, one row per person.

    # PostgreSQL (a throwaway cluster on a free port, stopped on exit):
    bash -c 'source scripts/_venv.sh; source scripts/_postgres.sh; python bench/import_roster.py'
    # SQLite (a temporary database file):
    .venv/bin/python bench/import_roster.py --sqlite

Prints, for the database in DATABASE_URL: the floor (the fastest reader, python-calamine,
plus COPY — on SQLite executemany — of the same rows into bare tables), then the real
import with each .xlsx reader (seconds, rows/s, peak memory of the process, ratio to the
floor), and the re-import of the same file (0 new, all unchanged). Each measurement runs
in a fresh process so that its peak RSS is its own. Not a test: nothing is asserted.

run.sh: skip (it loads its own county into an empty database; run it as above)
"""

import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shuanglian.settings")

HEADERS = [
    "户编号",
    "县",
    "乡(镇)",
    "村",
    "社",
    "姓名",
    "身份证号码",
    "与户主关系",
    "民族",
    "文化程度",
    "健康状况",
    "劳动能力",
    "贫困户属性",
    "主要致贫原因",
    "人均纯收入(元)",
    "联系电话",
    "家庭人口",
]
RELATIONS = ["户主", "配偶", "之子", "之女"]
COUNTY = ("621121", "通渭县")
TOWNSHIPS = 20
VILLAGES_PER_TOWNSHIP = 20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django():
    import django

    django.setup()


def prepare_database():
    """Migrate and load the county's region tree and an administrator."""
    setup_django()
    from django.core.management import call_command

    from accounts.models import User
    from households.models import Region

    call_command("migrate", verbosity=0)
    regions = [
        Region(code="620000000000", name="甘肃省", level="province"),
        Region(code="621100000000", name="定西市", level="city", parent_id="620000000000"),
        Region(code=COUNTY[0] + "000000", name=COUNTY[1], level="county", parent_id="621100000000"),
    ]
    for t in range(TOWNSHIPS):
        town = f"{COUNTY[0]}{101 + t:03d}000"
        regions.append(
            Region(code=town, name=f"第{t + 1}镇", level="township", parent_id=COUNTY[0] + "000000")
        )
        for v in range(VILLAGES_PER_TOWNSHIP):
            regions.append(
                Region(
                    code=f"{town[:9]}{201 + v:03d}",
                    name=f"镇{t + 1}村{v + 1}村民委员会",
                    level="village",
                    parent_id=town,
                )
            )
    Region.objects.bulk_create(regions, ignore_conflicts=True)
    if not User.objects.filter(username="bench").exists():
        User.objects.create_superuser("bench", password="bench-only")


def generate(path: Path, households: int):
    """The workbook, written by openpyxl in write-only mode, IDs as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    sys.path.insert(0, str(ROOT))
    from shuanglian.lib.idcard import make

    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.append(["通渭县农户花名册（基准测试）"])
    sheet.append(["填报单位：通渭县双联办"])
    sheet.append(HEADERS)
    base = datetime.date(1950, 1, 1)
    serial = 0
    for h in range(households):
        town, village = divmod(h % (TOWNSHIPS * VILLAGES_PER_TOWNSHIP), VILLAGES_PER_TOWNSHIP)
        for m in range(4):
            serial += 1
            born = base + datetime.timedelta(days=serial // 400)
            person_id = make(COUNTY[0], born, serial % 400 * 2 + (1 if m % 2 == 0 else 0))
            head = m == 0
            id_cell = WriteOnlyCell(sheet, value=person_id)
            id_cell.number_format = "@"
            sheet.append(
                [
                    f"H{h + 1:06d}",
                    COUNTY[1] if head else None,
                    f"第{town + 1}镇" if head else None,
                    f"镇{town + 1}村{village + 1}村" if head else None,
                    f"{h % 7 + 1}社" if head else None,
                    f"姓名{serial}",
                    id_cell,
                    RELATIONS[m],
                    "汉族",
                    "初中",
                    "健康",
                    "普通劳动力",
                    "一般贫困户" if head else None,
                    "因病" if head else None,
                    3000 + h % 1000 if head else None,
                    f"138{h:08d}" if head else None,
                    4 if head else None,
                ]
            )
        sheet.append([])
    book.save(path)


def floor(path: Path) -> dict:
    """The fastest reader and the cheapest write of the same rows: the lower bound."""
    setup_django()
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    households, members = [], []
    current = None
    for row in sheet.iter_rows():
        if not row[6] or row[6] == "身份证号码":
            continue
        if row[7] == "户主":
            current = row[6]
            households.append((row[6], row[5], row[4], row[12], row[13], row[14], row[15]))
        members.append((current, row[5], row[6], row[7], row[8], row[9], row[10], row[11]))
    read = time.perf_counter() - start
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_member")
        cursor.execute("DROP TABLE IF EXISTS floor_household")
        cursor.execute(
            "CREATE TABLE floor_household (head_id varchar(18) PRIMARY KEY, head_name varchar(32),"
            " grp varchar(32), category varchar(8), cause varchar(12), income numeric(10,2),"
            " phone varchar(20))"
        )
        cursor.execute(
            "CREATE TABLE floor_member (head_id varchar(18), name varchar(32),"
            " id_number varchar(18) PRIMARY KEY, relation varchar(8), ethnicity varchar(8),"
            " education varchar(8), health varchar(8), labour varchar(8))"
        )
        if connection.vendor == "postgresql":
            import io

            for table, rows in (("floor_household", households), ("floor_member", members)):
                buffer = io.StringIO("".join("\t".join(str(v) for v in r) + "\n" for r in rows))
                cursor.cursor.copy_expert(f"COPY {table} FROM STDIN", buffer)
        else:
            cursor.executemany("INSERT INTO floor_household VALUES (%s, %s, %s, %s, %s, %s, %s)", households)
            cursor.executemany("INSERT INTO floor_member VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", members)
        cursor.execute("DROP TABLE floor_member")
        cursor.execute("DROP TABLE floor_household")
    return {
        "seconds": time.perf_counter() - start,
        "read_seconds": read,
        "rows": len(members),
        "peak_mb": peak_mb(),
    }


def run_import(path: Path, engine: str, dry_run: bool) -> dict:
    setup_django()
    from accounts.models import User
    from imports.households import import_households

    user = User.objects.get(username="bench")
    start = time.perf_counter()
    result = import_households(
        path.read_bytes(), user=user, filename=path.name, xlsx_engine=engine, dry_run=dry_run
    )
    seconds = time.perf_counter() - start
    if not result.ok:
        return {"error": [str(e) for e in result.errors[:5]]}
    return {"seconds": seconds, "rows": result.rows, "peak_mb": peak_mb(), "counts": result.counts}


def wipe():
    setup_django()
    from households.models import Household, Member

    Member.objects.all().delete()
    Household.objects.all().delete()


def child(*args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite database")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="openpyxl", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        path = Path(args.file) if args.file else None
        result = {
            "floor": lambda: floor(path),
            "import": lambda: run_import(path, args.engine, dry_run=False),
            "dry": lambda: run_import(path, args.engine, dry_run=True),
            "prepare": lambda: (prepare_database(), {})[1],
            "wipe": lambda: (wipe(), {})[1],
        }[args.phase]()
        print(json.dumps(result, ensure_ascii=False))
        return

    tmp = Path(tempfile.mkdtemp(prefix="import-bench-"))
    try:
        measure(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the workbook and the SQLite file: tens of MB per run


def measure(tmp: Path, args):
    if args.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    database = os.environ.get("DATABASE_URL", "")
    vendor = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    child("--phase", "prepare")
    path = tmp / "roster.xlsx"
    start = time.perf_counter()
    generate(path, args.households)
    print(
        f"{vendor}: {args.households:,} households, {args.households * 4:,} members"
        f" in {path.stat().st_size / 2**20:.1f} MB"
        f" (generated in {time.perf_counter() - start:.0f} s)"
    )

    base = child("--phase", "floor", "--file", str(path))
    print(
        f"floor (calamine + {'COPY' if vendor == 'PostgreSQL' else 'executemany'} into bare tables): "
        f"{base['seconds']:.1f} s (reading {base['read_seconds']:.1f} s), "
        f"{base['rows'] / base['seconds']:,.0f} rows/s, "
        f"peak {base['peak_mb']:.0f} MB"
    )
    for engine in ("calamine", "openpyxl"):
        child("--phase", "wipe")
        first = child("--phase", "import", "--file", str(path), "--engine", engine)
        if "error" in first:
            print("refused:", first["error"])
            return
        again = child("--phase", "import", "--file", str(path), "--engine", engine)
        for label, run in (("import", first), ("re-import", again)):
            print(
                f"{label:9} ({engine:8}): {run['seconds']:.1f} s, "
                f"{run['rows'] / run['seconds']:,.0f} rows/s, peak {run['peak_mb']:.0f} MB, "
                f"{run['seconds'] / base['seconds']:.2f}× the floor  {run['counts']}"
            )


if __name__ == "__main__":
    main()
