"""Each request's id, its one log event and its one histogram observation.

The request id comes from `X-Request-ID` when it is a short run of safe characters (a load
balancer's or another coop app's id), otherwise a new one is made; it is echoed in the response
and bound to the request's context, so every log line written while serving it carries it
(the SumUp client's among them). The metrics are labelled by the URL rule that matched, never
the raw path, so a client cannot make new series.

Kept small: these steps run on every request of every page.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from quart import Response, request

from lib.metrics import UNMATCHED_ROUTE, Metrics, bind_metrics
from lib.pipeline import STARTED_KEY
from lib.secret_paths import redacted_path

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and . _ : - only (no spaces, quotes or line breaks to forge log lines with),
# and at most 64 of them: a UUID, a hex id, a load balancer's trace id.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

LOGGER_NAME = "cart.request"

log = structlog.get_logger()


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is safe to log and echo, else a new one."""
    if header is not None and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestObservation:
    """The first and the last steps of the request pipeline (lib/pipeline.py): the first, so
    that a request another step refuses (a rate limit, CSRF) is still timed and logged."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def start(self) -> None:
        """Bind the request id to every log line of this request, and the metrics."""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER))
        )
        bind_metrics(self.metrics)

    def finish(self, response: Response) -> None:
        """One histogram observation and one log event; the request id echoed."""
        started = request.scope.get(STARTED_KEY)
        seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
        rule = request.url_rule
        route = rule.rule if rule is not None else UNMATCHED_ROUTE
        status = response.status_code
        metrics = self.metrics
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
