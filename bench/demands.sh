#!/usr/bin/env bash
# The demand ledger at scale on a throwaway PostgreSQL 15 cluster:
#   bash bench/demands.sh [scale]      (scale 1.0 = 400k households; one demand per paired household)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_postgres.sh
python bench/demands.py "${1:-0.25}"
