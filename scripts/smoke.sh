#!/usr/bin/env bash
# Embedded-default smoke test: `make run` in the background on its own ports and var/ folder,
# wait for /readyz, push one request through web → broker → worker → database, stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export HUB_VAR_DIR="$PWD/var/smoke" HUB_WEB_PORT=${SMOKE_WEB_PORT:-18000}
export HUB_FLOWER_PORT=${SMOKE_FLOWER_PORT:-15555} HUB_SANDBOX_PORT=${SMOKE_SANDBOX_PORT:-18069}
unset DATABASE_URL CELERY_BROKER_URL REDIS_URL ODOO_URL ODOO_DB ODOO_USER ODOO_PASSWORD
rm -rf "$HUB_VAR_DIR"
log="$(mktemp)"
started=$(date +%s.%N)
setsid make run >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM -- -"$pid" 2>/dev/null || true; sleep 2; kill -KILL -- -"$pid" 2>/dev/null || true; }
trap cleanup EXIT
base="http://127.0.0.1:$HUB_WEB_PORT"
for _ in $(seq 1 240); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "make run exited:"; tail -50 "$log"; exit 1; fi
  sleep 0.5
done
curl -fsS "$base/readyz" || { echo "not ready:"; curl -sS "$base/readyz"; tail -80 "$log"; exit 1; }
echo
printf 'ready after %.1fs\n' "$(echo "$(date +%s.%N) - $started" | bc)"
auth="admin:$(cat "$HUB_VAR_DIR/dev_admin_password")"
cid=$(curl -fsS -u "$auth" -X POST -H 'X-Request-ID: smoke-check-1' "$base/ops/pipeline-check" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["correlation_id"])')
for _ in $(seq 1 120); do
  state=$(curl -fsS -u "$auth" "$base/ops/pipeline-check/$cid" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$state" = done ] && break
  sleep 0.5
done
[ "$state" = done ] || { echo "pipeline check did not complete"; tail -80 "$log"; exit 1; }
curl -fsS "$base/api/schema/" >/dev/null
# Read the whole page first: `grep -q` stops reading early, which fails curl under pipefail.
metrics=$(curl -fsS "$base/metrics")
grep -q hub_http_requests_total <<<"$metrics"
echo "smoke: pipeline check $cid done; readyz, schema and metrics answered"
.venv/bin/python scripts/smoke_events.py "$base" "$(cat "$HUB_VAR_DIR/demo_b2b_token")" \
  || { tail -80 "$log"; exit 1; }
