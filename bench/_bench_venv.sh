#!/usr/bin/env bash
# The load generator's venv (.venv-bench, git-ignored): locust and its dependencies, pinned in
# requirements-bench.txt. A development tool only, kept out of the app's venv and requirements.txt.
# Re-installs only when requirements-bench.txt changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv-bench/bin/python ] || "$PYTHON" -m venv .venv-bench
stamp=.venv-bench/.requirements.sha256
wanted=$(sha256sum requirements-bench.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  log=$(mktemp)
  .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt \
    >"$log" 2>&1 || { cat "$log"; rm -f "$log"; exit 1; }
  rm -f "$log"
  echo "$wanted" > "$stamp"
fi
