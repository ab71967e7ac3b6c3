#!/usr/bin/env bash
# Every bench at one scale, on one PostgreSQL 15 cluster, and docs/benchmarks.md rewritten from
# what they printed (the convention a bench follows to join is in docs/benchmarks.md):
#   bash bench/run.sh [scale]      (default 1.0: 400k households, 4.9M visits; minutes to generate)
# The cluster is kept in /tmp/shuanglian-bench-run-pg-<scale> so the next run reuses the data;
# delete it to generate again.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1.0}
source scripts/_venv.sh
bash bench/_bench_venv.sh  # locust, for bench/month_end.py
export BENCH_PGDATA=${BENCH_PGDATA:-/tmp/shuanglian-bench-run-pg-$scale}
source bench/_kept_postgres.sh
export BENCH_EXPLAIN=${BENCH_EXPLAIN:-0}
logs=$(mktemp -d /tmp/shuanglian-bench-run.XXXXXX)
python bench/_run.py "$scale" --logs "$logs" --out docs/benchmarks.md
