"""GET /healthz and GET /readyz."""

from __future__ import annotations

from quart import Response, current_app, jsonify

from bp.health import bp
from services.health import check_readiness


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
