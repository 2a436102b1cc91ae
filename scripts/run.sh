#!/usr/bin/env bash
# `make run`: prepare the database and start every process under one supervisor (honcho).
# Ctrl-C stops them all. Works on the embedded default and, with DATABASE_URL and
# CELERY_BROKER_URL set, on PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"

$PY manage.py migrate --no-input -v 0
$PY manage.py createcachetable
$PY manage.py sync_schedules
$PY manage.py hub_roles >/dev/null 2>&1 || true
admin_line=$($PY manage.py ensure_dev_superuser 2>/dev/null || echo "admin user: (DJANGO_DEBUG is off; create one with manage.py createsuperuser)")
if $PY manage.py help seed_demo >/dev/null 2>&1; then
  $PY manage.py seed_demo
  $PY manage.py finance demo
fi
eval "$($PY manage.py hub_env)"

cat <<INFO

Integration Hub is starting. Ctrl-C stops every process.
  web        http://127.0.0.1:${HUB_WEB_PORT}/            (admin: /admin/, API docs: /api/docs/)
  health     http://127.0.0.1:${HUB_WEB_PORT}/healthz  and  /readyz
  metrics    http://127.0.0.1:${HUB_WEB_PORT}/metrics
  flower     http://127.0.0.1:${HUB_FLOWER_PORT}/        (basic auth: ${FLOWER_BASIC_AUTH})
  odoo       ${ODOO_URL}   (sandbox when ODOO_URL is not set)
  ${admin_line}
  database   ${HUB_DATABASE_DISPLAY}
  broker     ${HUB_BROKER_DISPLAY}

INFO
procs="web worker worker_odoo worker_events beat flower"
if [ "${HUB_START_SANDBOX}" = "1" ]; then procs="$procs sandbox"; fi
# shellcheck disable=SC2086  # one word per process name
exec honcho start -f Procfile $procs
