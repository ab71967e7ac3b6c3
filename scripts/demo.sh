#!/usr/bin/env bash
# Run the app on an embedded SQLite database with the demo loaded:
#   bash scripts/demo.sh            (then open http://127.0.0.1:8000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
export DJANGO_DEBUG=1
python manage.py migrate --verbosity 0
python manage.py load_regions
python manage.py load_demo
echo "打开 http://127.0.0.1:8000 ，用上面任一演示账号登录。"
exec python manage.py runserver 127.0.0.1:8000
