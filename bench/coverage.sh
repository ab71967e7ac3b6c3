#!/usr/bin/env bash
# Coverage pages at province scale on a throwaway PostgreSQL 15 cluster:
#   bash bench/coverage.sh [scale]      (scale 1.0 = 400k households, 400k cadres, 15k units)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_postgres.sh
python bench/coverage.py "${1:-1.0}"
