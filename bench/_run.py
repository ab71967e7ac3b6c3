"""bench/run.sh's driver: generate the province once, run every bench, write docs/benchmarks.md.

Each bench/NAME.py (not _*.py) is run as `python bench/NAME.py SCALE` with DATABASE_URL on the
generated province, one after another in name order; the lines it prints that read
`FIGURE name value unit goal` become the table's rows (see docs/benchmarks.md, "Adding a bench").
A bench whose first 40 lines say `run.sh: skip` is left out (say why on that line).
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOWTO = """
## How to run

`bash bench/run.sh [scale]` (default 1.0) starts a PostgreSQL 15 cluster kept in
`/tmp/shuanglian-bench-run-pg-<scale>` (`BENCH_PGDATA`), generates the province there once
(`generate_province`; a later run at the same scale reuses it), runs every bench below one after
another and rewrites this file, which so always holds one whole run (`BENCH_ONLY_FILES=name`,
for trying a bench, runs only those and writes the table into the log directory instead;
`BENCH_SKIP="name ..."` leaves benches out and says so below). Each
bench's full output is in the log directory the run names; `BENCH_EXPLAIN=1` adds plans to it.

## Adding a bench

A file `bench/NAME.py` joins the run by itself, without editing run.sh:

- it is run as `python bench/NAME.py SCALE` from the repository root, with `DATABASE_URL` pointing
  at the generated province (it may add its own rows; benches run in name order on one database,
  so write what you add idempotently, as `bench/demands.py` and `bench/floors.py` do);
- every figure it wants in this table is one printed line
  `FIGURE name value unit goal`: `name` without spaces (`township.visit_list.median`), `value` a
  number, `unit` a word (`ms`, `s`, `queries`, `count`, `req/s`), `goal` one of `<N`, `<=N`, `=N`,
  `>=N`, `>N` or `-` for none (`_pages.figure()` prints it);
- it exits 0; a non-zero exit, a timeout (`BENCH_TIMEOUT`, 3600 s) or no FIGURE line is shown
  in the status table;
- files named `_*.py` are helpers, and a bench that cannot run on the shared province (it needs an
  empty database, say) writes `run.sh: skip <why>` in its first 40 lines.
"""
FIGURE = re.compile(r"^FIGURE (\S+) (\S+) (\S+)(?: (\S+))?\s*$")
GOAL = re.compile(r"^(<=|<|=|>=|>)(-?[0-9.]+)$")


def left_out() -> set[str]:
    """Benches this run leaves out (`BENCH_SKIP="flags month_end"`), each named in the table."""
    return set(os.environ.get("BENCH_SKIP", "").split())


def benches() -> list[Path]:
    found = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.name.startswith("_") or path.stem in left_out():
            continue
        head = "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:40])
        if "run.sh: skip" not in head:
            found.append(path)
    return found


def skipped() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "bench").glob("[!_]*.py")):
        if path.stem in left_out():
            out.append((path.name, "left out of this run (BENCH_SKIP); run it alone with its .sh"))
            continue
        for line in path.read_text(encoding="utf-8").splitlines()[:40]:
            if "run.sh: skip" in line:
                reason = line.split("run.sh: skip", 1)[1].strip(" :-—()")
                out.append((path.name, reason))
    return out


def generate(scale: float) -> tuple[str, dict]:
    """The province generated (or found) in the database: how long that took, and its size."""
    sys.path.insert(0, str(ROOT / "bench"))
    import _pages  # sets Django up
    from django.db import connection

    from households.models import Household
    from pairing.models import Pairing
    from visits.models import Visit

    _pages.prepare_database()
    began = time.perf_counter()
    made = _pages.generate_province_if_empty(scale)
    # Kept beside the cluster, so that a run reusing the data still says what generating it took.
    note = Path(os.environ.get("BENCH_PGDATA", "/nonexistent")) / "generated.txt"
    if made:
        took = f"{time.perf_counter() - began:.0f} s"
        if note.parent.is_dir():
            note.write_text(f"{took} on {datetime.date.today()}")
    else:
        took = (
            f"reused (kept cluster; generated in {note.read_text().strip()})" if note.exists() else "reused"
        )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    size = {
        "households": Household.objects.count(),
        "open pairings": Pairing.objects.open().count(),
        "visits": Visit.objects.count(),
        "postgresql": version,
    }
    connection.close()
    return took, size


def loadavg() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def run_bench(path: Path, scale: float, logs: Path, timeout: int) -> dict:
    log = logs / f"{path.stem}.log"
    print(f"== {path.name} (load {loadavg()})", flush=True)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    figures, status = [], "ok"
    with log.open("w") as out:
        try:
            process = subprocess.run(
                [sys.executable, str(path), str(scale)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
            text, code = process.stdout, process.returncode
        except subprocess.TimeoutExpired as stopped:
            text, code = stopped.stdout or "", None
            text = text.decode(errors="replace") if isinstance(text, bytes) else text
            status = f"stopped after {timeout} s"
        out.write(text)
    if code not in (0, None):
        status = f"failed (exit {code})"
    for line in text.splitlines():
        match = FIGURE.match(line)
        if match:
            figures.append(match.groups())
    if status == "ok" and not figures:
        status = "printed no FIGURE line"
    seconds = time.perf_counter() - began
    print(f"   {status}, {len(figures)} figures, {seconds:.0f} s; log {log}", flush=True)
    return {
        "name": path.stem,
        "status": status,
        "figures": figures,
        "seconds": seconds,
        "load": (load_before, os.getloadavg()[0]),
    }


def judge(value: str, goal: str | None) -> tuple[str, str]:
    """(ratio, verdict) of a value against a goal such as `<300`."""
    match = GOAL.match(goal or "")
    if not match:
        return "", ""
    sign, target = match.group(1), float(match.group(2))
    try:
        number = float(value)
    except ValueError:
        return "", "?"
    met = {
        "<": number < target,
        "<=": number <= target,
        "=": number == target,
        ">=": number >= target,
        ">": number > target,
    }[sign]
    ratio = f"{number / target:.2f}" if target and sign != "=" else ""
    return ratio, "met" if met else "**not met**"


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks.md")
    return head + (" + uncommitted changes" if dirty else "")


def write(out: Path, *, scale, started, measured, took, size, results, load_start, load_end):
    lines = [
        "# Benchmarks",
        "",
        "Written by `bash bench/run.sh "
        f"{scale}`; do not edit by hand. Every figure below is what that run measured on this machine.",
        "",
        "| | |",
        "|---|---|",
        f"| commit | {measured} |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| machine | {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()} |",
        f"| load average (1 / 5 / 15 min) | {load_start} at the start, {load_end} at the end |",
        f"| PostgreSQL | {size['postgresql']} (cluster made with --locale=C.UTF-8) |",
        f"| data | `generate_province --scale {scale}`: {size['households']:,} households, "
        f"{size['open pairings']:,} open pairings, {size['visits']:,} visits |",
        f"| generation | {took} |",
        "",
        "The machine is shared: with a load average above its core count every time is inflated. "
        "Ratio is value ÷ goal (below 1 meets a `<` goal).",
        "",
        "| bench | figure | value | unit | goal | ratio | |",
        "|---|---|---:|---|---|---:|---|",
    ]
    for result in results:
        for name, value, unit, goal in result["figures"]:
            goal = None if goal in (None, "-") else goal
            ratio, verdict = judge(value, goal)
            lines.append(
                f"| {result['name']} | {name} | {value} | {unit} | {goal or ''} | {ratio} | {verdict} |"
            )
    lines += [
        "",
        "| bench | status | took | load average (1 min) before → after |",
        "|---|---|---:|---|",
    ]
    for result in results:
        before, after = result["load"]
        took = f"{result['seconds']:.0f} s"
        lines.append(f"| {result['name']} | {result['status']} | {took} | {before:.2f} → {after:.2f} |")
    for name, reason in skipped():
        lines.append(f"| {name.removesuffix('.py')} | not run here: {reason} | | |")
    lines += ["", HOWTO.strip(), ""]
    out.write_text("\n".join(lines), encoding="utf-8")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scale", type=float)
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    measured = commit()  # what the benches run, before anything is edited during a long run
    load_start = loadavg()
    print(f"scale {args.scale}, load {load_start}; logs in {args.logs}", flush=True)
    took, size = generate(args.scale)
    print(f"province: {took}", flush=True)
    only = os.environ.get("BENCH_ONLY_FILES")
    out = args.logs / "benchmarks.md" if only else args.out
    timeout = int(os.environ.get("BENCH_TIMEOUT", "3600"))
    results = [
        run_bench(path, args.scale, args.logs, timeout) for path in benches() if not only or only in path.stem
    ]
    write(
        out,
        scale=args.scale,
        started=started,
        measured=measured,
        took=took,
        size=size,
        results=results,
        load_start=load_start,
        load_end=loadavg(),
    )
    print(f"wrote {out}")
    return 0 if all(result["status"] == "ok" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
