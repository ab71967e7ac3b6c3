#!/usr/bin/env bash
# The quarterly ranking (季调度) at scale on a throwaway PostgreSQL 15 cluster:
#   bash bench/dispatch.sh [scale]      (scale 1.0 = 400k households, ~3.6M visits)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_postgres.sh
python bench/dispatch.py "${1:-0.1}"
