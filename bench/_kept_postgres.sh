# Sourced by bench/run.sh: a PostgreSQL 15 cluster kept in $BENCH_PGDATA between runs, so the
# generated province (minutes at scale 1.0) is made once per scale and reused. The cluster is
# made with --locale=C.UTF-8 as CI's is; it is stopped, not removed, when the shell exits.
# Delete the directory to start again from an empty database.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDIR=${BENCH_PGDATA:-/tmp/shuanglian-bench-run-pg}
# A free port unless told (kept clusters of two scales may run at once); a running one keeps its own.
PGPORT=${BENCH_PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -d "$PGDIR/data" ]; then
  mkdir -p "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  _as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  _kept_pg_fresh=1
fi
if _as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
  PGPORT=$(sed -n 4p "$PGDIR/data/postmaster.pid")
else
  _as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/server.log" \
    -o "-k $PGDIR -h 127.0.0.1 -p $PGPORT -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null
  trap '_as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true' EXIT
fi
[ -n "${_kept_pg_fresh:-}" ] && _as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres shuanglian
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/shuanglian"
