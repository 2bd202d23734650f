#!/bin/sh
# Container start: wait for the database, migrate, flush the cart's own Redis index, serve.
set -eu
cd "$(dirname "$0")"
python manage.py wait-db
# A coop deployment whose other apps already created the shared tables sets MIGRATE_TARGET=cart@head.
python -m alembic upgrade "${MIGRATE_TARGET:-heads}"
python manage.py flush-cart-redis
# Timeouts for slow clients and the access log's format are in hypercorn.toml; on SIGTERM the
# workers stop accepting and get GRACEFUL_TIMEOUT seconds to finish what is in flight.
exec hypercorn --config hypercorn.toml "${APP_MODULE:-app:app}" --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WORKERS:-2}" --graceful-timeout "${GRACEFUL_TIMEOUT:-30}"
