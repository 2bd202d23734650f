#!/bin/sh
# Container start: wait for the database, migrate, flush the cart's own Redis index, serve.
set -eu
cd "$(dirname "$0")"
# Metrics: each worker keeps its counts in files of this folder and a scrape of any worker sums
# them (prometheus-client's multiprocess mode). A fresh folder unless the operator names one,
# whose counts of a previous run are then removed, so that they are not added to this run's.
# First: the commands below load the metrics too, and need the folder to exist.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
else
    PROMETHEUS_MULTIPROC_DIR="$(mktemp -d -t cart-metrics.XXXXXX)"
fi
export PROMETHEUS_MULTIPROC_DIR
python manage.py wait-db
# Several instances are rolled out one at a time: the migration and the flush are then done
# once, before the first, and each instance starts with MIGRATE_ON_START=false and
# FLUSH_CART_REDIS_ON_START=false (a flush while the others serve would drop their idempotency
# keys and rate-limit counts; migrations behind PgBouncer must go to PostgreSQL directly).
if [ "${MIGRATE_ON_START:-true}" != "false" ]; then
    # A coop deployment whose other apps already created the shared tables sets MIGRATE_TARGET=cart@head.
    python -m alembic upgrade "${MIGRATE_TARGET:-heads}"
fi
if [ "${FLUSH_CART_REDIS_ON_START:-true}" != "false" ]; then
    python manage.py flush-cart-redis
fi
# Timeouts for slow clients and the access log are in hypercorn_config.py; on SIGTERM the
# workers stop accepting and get GRACEFUL_TIMEOUT seconds to finish what is in flight.
exec hypercorn --config file:hypercorn_config.py "${APP_MODULE:-app:app}" \
    --bind "0.0.0.0:${PORT:-8000}" --workers "${WORKERS:-2}" \
    --graceful-timeout "${GRACEFUL_TIMEOUT:-30}"
