"""The month-end rush (issue 11): 40 township clerks enter visits through the real pages while 5
offices read their lists, against gunicorn (4 workers, DJANGO_DEBUG=0) and PostgreSQL, for 3 minutes.

    bash bench/month_end.sh [scale]          (its own throwaway PostgreSQL 15 cluster)
    DATABASE_URL=… python bench/month_end.py [scale]   (a database that may hold the province already)

Each clerk logs in, then for each household of a pile (open pairings of the clerk's township, none
visited today): opens the entry page, looks the household up by its head's name, asks for the
responsible cadre, saves the form with its submission key (one save in 20 pressed twice), and
reads the household's timeline, where the page says whether it saved. Bounded in time (BENCH_SECONDS,
180) and in count (BENCH_SAVES_PER_CLERK, 100 saves a clerk). The load generator (locust, from
requirements-bench.txt in .venv-bench) runs on the same machine.

Prints requests/s, p50/p95/p99 per request kind, failures, 5xx, and lost writes: the saves the
clients were told of minus the visits added (must be 0), as FIGURE lines for bench/run.sh.
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _pages  # first: sets Django up
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
CLERKS = int(os.environ.get("BENCH_CLERKS", "40"))
OFFICES = 5  # three counties, a city, the province
SECONDS = int(os.environ.get("BENCH_SECONDS", "180"))
SAVES_PER_CLERK = int(os.environ.get("BENCH_SAVES_PER_CLERK", "100"))
WORKERS = 4
PASSWORD = "bench-month-end"  # noqa: S105 (a throwaway bench database)
SAVE_GOAL_MS = 300


def townships_with_most_pairings(count: int) -> list[str]:
    """The township codes with the most open responsible pairings: the busiest clerks."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from pairing.models import Pairing

    rows = (
        Pairing.objects.open()
        .responsible()
        .annotate(township=Substr("household__village_id", 1, 9))
        .values("township")
        .annotate(pairings=Count("pk"))
        .order_by("-pairings", "township")[:count]
    )
    return [row["township"] + "000" for row in rows]


def clerk_households(township: str, today) -> list[dict]:
    """Households of the township with a responsible cadre today and no visit today: the pile."""
    from django.db.models import Exists, OuterRef

    from households.models import Household
    from pairing.models import Pairing
    from visits.models import Visit

    paired = Pairing.objects.on(today).responsible().filter(household=OuterRef("pk"))
    visited = Visit.objects.filter(household=OuterRef("pk"), visited_on=today)
    households = (
        Household.objects.filter(village__code__startswith=township[:9])
        .filter(Exists(paired))
        .exclude(Exists(visited))
        .order_by("pk")
        .values("pk", "head_name", "head_id_number")[:SAVES_PER_CLERK]
    )
    return [{"id": h["pk"], "name": h["head_name"], "tail": h["head_id_number"][-6:]} for h in households]


def login_for(username: str, role: str, region: str, password: str):
    from accounts.models import User

    fields = {"role": role, "region_id": region, "password": password, "is_active": True}
    return User.objects.update_or_create(username=username, defaults=fields)[0]


def make_plan() -> tuple[dict, list]:
    """The logins (made or refreshed) and what each does; also the clerks' users, to count their visits."""
    from django.contrib.auth.hashers import make_password

    from households.models import Region

    today = timezone.localdate()
    password = make_password(PASSWORD)  # hashed once: PBKDF2 at Django's cost, as in production
    clerks, plan_clerks = [], []
    townships = townships_with_most_pairings(CLERKS)
    for number, code in enumerate(townships, 1):
        clerk = login_for("bench_clerk_%02d" % number, "township", code, password)
        clerks.append(clerk)
        plan_clerks.append({"username": clerk.username, "households": clerk_households(code, today)})
    counties = list(dict.fromkeys(code[:6] + "000000" for code in townships))
    counties += (
        Region.objects.filter(level="county", is_poor=True).order_by("code").values_list("code", flat=True)
    )
    counties = list(dict.fromkeys(counties))[:3]  # the clerks' counties first
    city = Region.objects.get(code=counties[0]).parent_id
    offices = [("county", code) for code in counties] + [("city", city), ("province", _pages.PROVINCE)]
    plan_offices = []
    for number, (role, code) in enumerate(offices[:OFFICES], 1):
        office = login_for(f"bench_office_{number}", role, code, password)
        pages = [
            ("home", "/"),
            ("coverage", f"/coverage/{code}/"),
            ("worklists", "/visits/worklists/"),
            ("demand ledger", "/demands/"),
        ]
        if role == "county":  # a city's or the province's lists are per county, through the above
            pages += [("visit list", "/visits/"), ("household list", "/households/")]
        plan_offices.append({"username": office.username, "pages": pages})
    plan = {
        "password": PASSWORD,
        "saves_per_clerk": SAVES_PER_CLERK,
        "clerks": plan_clerks,
        "offices": plan_offices,
    }
    return plan, clerks


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SSL_REDIRECT": "0",  # plain HTTP on the loopback, no TLS proxy in front
        "DJANGO_SECURE_COOKIES": "0",
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "shuanglian.wsgi", "-w", str(WORKERS)),
            *("-b", f"127.0.0.1:{port}", "--access-logfile", str(log.parent / "access.log")),
            # Method, path, status and the time the worker spent on it (µs), without the wait for
            # a free worker that the client's time includes.
            *("--access-logformat", "%(m)s %(U)s %(s)s %(D)s"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer; see {log}")


def locust_binary() -> str:
    binary = os.environ.get("BENCH_LOCUST") or str(ROOT / ".venv-bench" / "bin" / "locust")
    if not Path(binary).exists():  # installs requirements-bench.txt into .venv-bench
        subprocess.run(["bash", str(ROOT / "bench" / "_bench_venv.sh")], cwd=ROOT, check=True)
    return binary


def run_locust(url: str, plan_file: Path, results: Path, log: Path):
    users = len(json.loads(plan_file.read_text())["clerks"]) + OFFICES
    command = [
        locust_binary(),
        "-f",
        str(ROOT / "bench" / "month_end" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        "1",  # a login a second: all at work within 45 s, their logins part of the rush
        "--run-time",
        f"{SECONDS}s",
        # Every user ends the visit it is on (typing takes up to 20 s): a client stopped between
        # the server's save and the page that says so would count as a write nobody saw.
        "--stop-timeout",
        "60",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = os.environ | {"BENCH_PLAN": str(plan_file), "BENCH_RESULTS": str(results)}
    with log.open("w") as out:
        # A hard bound over locust's own: its run time, the stop timeout and a margin.
        subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=SECONDS + 180)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def slug(kind: str) -> str:
    return kind.replace("office: ", "office_").replace(" ", "_").replace("(", "").replace(")", "")


def server_save_times(access_log: Path) -> list[float]:
    """The worker's own time (ms) for each visit save that landed (302; second presses too), from
    gunicorn's access log."""
    times = []
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if parts[:3] == ["POST", "/visits/new/", "302"]:
            times.append(int(parts[3]) / 1000)
    return times


def report(results: dict, added: int, server_times: list[float]):
    seconds = results["seconds"] or 1
    total = sum(len(times) for times in results["timings"].values())
    fivexx = sum(n for codes in results["statuses"].values() for code, n in codes.items() if int(code) >= 500)
    failures = sum(results["failures"].values())
    seen = results["seen"]
    print(f"\n{total:,} requests in {seconds:.0f} s: {total / seconds:.1f} requests/s")
    print(f"{'request kind':<34}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'failed':>8}")
    for kind, times in sorted(results["timings"].items()):
        print(
            f"{kind:<34}{len(times):>7}{statistics.median(times):>9.0f}{percentile(times, 0.95):>9.0f}"
            f"{percentile(times, 0.99):>9.0f}{results['failures'].get(kind, 0):>8}"
        )
    print(f"saves the clients were told of: {seen}; visits added: {added}")
    # Positive: a save the client was told of is missing. Negative: a visit no client was told of
    # (a user stopped mid-save; the stop timeout is there so that none is).
    lost = seen["saved"] - added
    _pages.figure("month_end.requests_per_s", round(total / seconds, 1), "req/s")
    for kind, times in sorted(results["timings"].items()):
        goal = f"<{SAVE_GOAL_MS}" if kind == "visit save" else None
        for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            value = statistics.median(times) if share == 0.5 else percentile(times, share)
            _pages.figure(
                f"month_end.{slug(kind)}.{name}", round(value), "ms", goal if name == "p95" else None
            )
    if server_times:
        p50, p95 = statistics.median(server_times), percentile(server_times, 0.95)
        print(f"visit save in the worker (no queueing): p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        _pages.figure("month_end.visit_save.worker_p50", round(p50), "ms")
        _pages.figure("month_end.visit_save.worker_p95", round(p95), "ms")
    _pages.figure("month_end.visits_saved", seen["saved"], "count")
    _pages.figure("month_end.saves_per_minute", round(seen["saved"] * 60 / seconds), "count")
    _pages.figure("month_end.failures", failures, "count", "=0")
    _pages.figure("month_end.5xx", fivexx, "count", "=0")
    _pages.figure("month_end.lost_writes", lost, "count", "=0")
    # A double click saves once (lost_writes counts the rows) and the page says so.
    _pages.figure("month_end.pressed_twice", seen["pressed twice"], "count")
    untold = seen["pressed twice"] - seen["told replayed"]
    _pages.figure("month_end.pressed_twice_not_told", untold, "count", "=0")
    if seen["unclear"] or seen["refused"]:
        print(f"warning: {seen['refused']} saves refused, {seen['unclear']} without a message")


def main(scale: float):
    from visits.models import Visit

    _pages.prepare_database()
    _pages.generate_province_if_empty(scale)
    _pages.analyze()
    plan, clerks = make_plan()
    before = Visit.objects.filter(recorded_by__in=clerks).count()
    saves = sum(len(clerk["households"]) for clerk in plan["clerks"])
    print(
        f"{len(plan['clerks'])} clerks (up to {saves:,} saves), {len(plan['offices'])} offices, "
        f"{SECONDS} s, gunicorn {WORKERS} workers"
    )
    connection.close()  # the server's workers are the ones to hold connections now
    work = Path(tempfile.mkdtemp(prefix="shuanglian-month-end-"))
    plan_file, results = work / "plan.json", work / "results.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False))
    port = free_port()
    server = start_gunicorn(port, work / "gunicorn.log")
    try:
        run_locust(f"http://127.0.0.1:{port}", plan_file, results, work / "locust.log")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    if not results.exists():
        print((work / "locust.log").read_text()[-3000:])
        raise SystemExit(f"locust wrote no results; see {work}")
    added = Visit.objects.filter(recorded_by__in=clerks).count() - before
    report(json.loads(results.read_text()), added, server_save_times(work / "access.log"))
    errors = [line for line in (work / "gunicorn.log").read_text().splitlines() if "Traceback" in line]
    print(f"gunicorn log: {len(errors)} tracebacks ({work / 'gunicorn.log'})")
    if not errors and os.environ.get("BENCH_KEEP") != "1":
        shutil.rmtree(work)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.25)
