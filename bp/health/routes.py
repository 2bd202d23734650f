"""GET /healthz and GET /readyz."""

from __future__ import annotations

from quart import Response, current_app, jsonify

from bp.health import bp
from lib.db import request_session
from lib.internal_auth import require_internal_token
from services.health import check_readiness
from services.metrics import collect_metrics


@bp.get("/healthz")
async def healthz() -> Response:
    """Alive: the process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
async def readyz() -> Response:
    """Ready: the database and both Redis indexes answer; 503 naming what does not."""
    checks = await check_readiness(current_app)
    ready = all(check == "ok" for check in checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


@bp.get("/metrics")
@require_internal_token
async def metrics() -> Response:
    """Gauges for operators (Prometheus text format); bearer token as for the internal API."""
    body = await collect_metrics(request_session())
    return Response(body, mimetype="text/plain; version=0.0.4")
