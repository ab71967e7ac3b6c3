#!/usr/bin/env bash
# The household list with the three-floor filter at province scale on a throwaway PostgreSQL 15 cluster:
#   bash bench/floors.sh [scale]      (scale 1.0 = 400k households, 1.2M synthetic members)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_postgres.sh
python bench/floors.py "${1:-1.0}"
