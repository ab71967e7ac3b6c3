#!/usr/bin/env bash
# The month-end load test on a throwaway PostgreSQL 15 cluster (issue 11):
#   bash bench/month_end.sh [scale]     (scale 1.0 = 400k households; generated first, minutes)
# 40 township clerks enter visits through the pages, 5 offices read lists, gunicorn 4 workers,
# 3 minutes (BENCH_SECONDS); locust runs from .venv-bench (requirements-bench.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
bash bench/_bench_venv.sh
source scripts/_postgres.sh
python bench/month_end.py "${1:-0.25}"
