# Sourced: start a throwaway PostgreSQL 15 cluster on a free loopback port,
# export DATABASE_URL for it, and stop and remove it when the shell exits.
# Postgres refuses to run as root, so as root the server runs as `postgres`.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGROOT=$(mktemp -d /tmp/shuanglian-pg.XXXXXX)
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$PGROOT"
_stop_postgres() {
  _as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap _stop_postgres EXIT
_as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
_as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -w -l "$PGROOT/server.log" \
  -o "-k $PGROOT -h 127.0.0.1 -p $PGPORT ${PGOPTIONS_EXTRA:-}" start >/dev/null
_as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres shuanglian
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/shuanglian"
