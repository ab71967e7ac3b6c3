#!/usr/bin/env bash
# Run the app on an embedded SQLite database with the demo loaded:
#   bash scripts/demo.sh            (then open http://127.0.0.1:8000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
export DJANGO_DEBUG=1
python manage.py migrate --verbosity 0
python manage.py createcachetable
python manage.py load_regions
python manage.py load_demo
echo "打开 http://127.0.0.1:8000 ，用上面任一演示账号登录。"
# The roster import runs as a background job: a worker beside the server picks it up.
python manage.py db_worker &
worker=$!
trap 'kill "$worker" 2>/dev/null' EXIT
python manage.py runserver 127.0.0.1:8000
