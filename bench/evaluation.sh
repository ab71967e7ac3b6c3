#!/usr/bin/env bash
# A province evaluation round (20% of each village's paired poor households, one ballot each) on a
# throwaway PostgreSQL 15 cluster: time computing every score, the flags, and the score pages.
#   bash bench/evaluation.sh [scale]      (scale 1.0 = 400k households, about 80k ballots)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_postgres.sh
python bench/evaluation.py "${1:-1.0}"
