#!/usr/bin/env bash
# Run the whole test suite (SQLite by default; PostgreSQL when DATABASE_URL says so):
#   bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_chromium.sh
exec python -m pytest "$@"
