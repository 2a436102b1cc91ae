#!/usr/bin/env bash
# `make bench`: run every benchmark; each prints a markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p "${HUB_VAR_DIR:-var/bench}"
for script in bench/odoo_bench.py bench/webhook_bench.py bench/orders_bench.py \
  bench/orders_latency_bench.py bench/inventory_bench.py bench/inventory_latency_bench.py \
  bench/order_poll_bench.py bench/events_bench.py bench/shipments_bench.py \
  bench/returns_bench.py bench/finance_bench.py bench/catalog_bench.py bench/prices_bench.py \
  bench/magento_bench.py; do
  if [ -f "$script" ]; then
    echo "## $script"
    $PY "$script"
    echo
  fi
done
# Against a real Odoo (writes test orders into it): only when ODOO_URL, ODOO_DB, ODOO_USER and
# ODOO_PASSWORD name one. The hub's burst against Odoo's own batch ceiling (docs/benchmarks.md).
if [ -n "${ODOO_URL:-}" ]; then
  echo "## bench/odoo_push_real.py"
  $PY bench/odoo_push_real.py --rounds 3
  echo
fi
