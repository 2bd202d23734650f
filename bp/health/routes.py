"""GET /healthz, GET /readyz and GET /metrics."""

from __future__ import annotations

from quart import Response, jsonify

from bp.health.blueprint import bp
from bp.runtime import current_runtime, request_session
from lib.internal_auth import is_internal_caller, require_internal_token
from lib.rate_limits import INTERNAL, rate_class, rate_exempt
from services.health import background_report, check_readiness
from services.metrics import CONTENT_TYPE, collect_metrics

STAFF_QUEUES_PATH = "/staff/queues/"


@bp.get("/healthz")
@rate_exempt
async def healthz() -> Response:
    """Alive: the process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@rate_class(INTERNAL)
async def readyz() -> Response:
    """Ready: the database and both Redis indexes answer (503 when one does not).

    Anyone may ask, within the page limit, and is told only ready or not. With the internal
    token the answer also names what failed, when the reconciler last finished a pass and the
    relay's backlog (without depending on either); the operator's probe sends it, and is not
    limited."""
    runtime = current_runtime()
    checks = await check_readiness(databases=runtime.databases, redis=runtime.redis)
    ready = all(check == "ok" for check in checks.values())
    answer: dict[str, object] = {"status": "ready" if ready else "unavailable"}
    if is_internal_caller():
        background = await background_report(
            databases=runtime.databases, redis=runtime.redis, checks=checks
        )
        # Where the coop's staff act on what is stuck (dead letters, dead mail, refunds due).
        queues = runtime.settings.public_base_url.rstrip("/") + STAFF_QUEUES_PATH
        answer |= {"checks": checks, **background, "staff_queues": queues}
    response = jsonify(answer)
    response.status_code = 200 if ready else 503
    return response


@bp.get("/metrics")
@require_internal_token
async def metrics() -> Response:
    """Metrics for operators (Prometheus text format); bearer token as for the internal API."""
    runtime = current_runtime()
    checks = await check_readiness(databases=runtime.databases, redis=runtime.redis)
    body = await collect_metrics(request_session(), runtime.metrics, checks=checks)
    return Response(body, content_type=CONTENT_TYPE)
