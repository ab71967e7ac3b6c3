#!/usr/bin/env bash
# Monthly reports at province scale on a PostgreSQL 15 cluster kept in $BENCH_PGDATA (default
# /tmp/shuanglian-bench-reports-pg), so a second run reuses the generated data:
#   bash bench/reports.sh [scale]        (scale 1.0 = 400k households, ~4M visits)
# Remove the directory to start again from an empty database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDIR=${BENCH_PGDATA:-/tmp/shuanglian-bench-reports-pg}
PGPORT=${BENCH_PGPORT:-55831}
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -d "$PGDIR/data" ]; then
  mkdir -p "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  _as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fresh=1
fi
_as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/server.log" \
  -o "-k $PGDIR -h 127.0.0.1 -p $PGPORT -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null
trap '_as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true' EXIT
[ -n "${fresh:-}" ] && _as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres shuanglian
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/shuanglian"
python bench/reports.py "${1:-1.0}"
