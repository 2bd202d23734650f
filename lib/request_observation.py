"""Each request's id, its one log event and its one histogram observation.

The request id comes from `X-Request-ID` when it is a short run of safe characters (a load
balancer's or another coop app's id), otherwise a new one is made; it is echoed in the response
and bound to the request's context, so every log line written while serving it carries it
(the SumUp client's among them). The metrics are labelled by the URL rule that matched, never
the raw path, so a client cannot make new series.

Kept small: these hooks run on every request of every page.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import Quart, Response, request

from lib.metrics import UNMATCHED_ROUTE, Metrics, bind_metrics
from lib.secret_paths import redacted_path

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and . _ : - only (no spaces, quotes or line breaks to forge log lines with),
# and at most 64 of them: a UUID, a hex id, a load balancer's trace id.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Where the ASGI scope keeps the moment the request reached the app: before its session is
# read, which the duration includes.
STARTED_KEY = "cart.request_started"

LOGGER_NAME = "cart.request"

log = structlog.get_logger()


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is safe to log and echo, else a new one."""
    if header is not None and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def install_request_observation(app: Quart, metrics: Metrics) -> None:
    """Time, log and count every request of `app`. Install it before every other request hook,
    so that a request another hook refuses (a rate limit, CSRF) is still timed and logged."""
    serve = app.asgi_app

    async def timed(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        scope[STARTED_KEY] = time.perf_counter()  # type: ignore[literal-required]
        await serve(scope, receive, send)

    app.asgi_app = timed  # type: ignore[method-assign]

    @app.before_request
    async def start_observing() -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER))
        )
        bind_metrics(metrics)

    @app.after_request
    async def finish_observing(response: Response) -> Response:
        started = request.scope.get(STARTED_KEY)
        seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
        rule = request.url_rule
        route = rule.rule if rule is not None else UNMATCHED_ROUTE
        status = response.status_code
        metrics.http_request_duration.labels(route, request.method, str(status)).observe(seconds)
        if status == 429:
            metrics.rate_limited.labels(route).inc()
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        log.info(
            "request",
            logger=LOGGER_NAME,
            method=request.method,
            route=route,
            path=redacted_path(request.path),
            status=status,
            duration_ms=round(seconds * 1000, 1),
        )
        return response
