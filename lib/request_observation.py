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
import secrets
import time

import structlog
from hypercorn.typing import HTTPScope, WebsocketScope
from prometheus_client import Histogram
from quart import Request, Response

from lib.metrics import UNMATCHED_ROUTE, Metrics, bind_metrics
from lib.pipeline import REQUEST_ID_KEY, STARTED_KEY
from lib.secret_paths import redacted_path
from lib.structured_logs import log_info

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and . _ : - only (no spaces, quotes or line breaks to forge log lines with),
# and at most 64 of them: a UUID, a hex id, a load balancer's trace id.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

LOGGER_NAME = "cart.request"


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is safe to log and echo, else a new one."""
    if header is not None and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


class RequestObservation:
    """The first and the last steps of the request pipeline (lib/pipeline.py): the first, so
    that a request another step refuses (a rate limit, CSRF) is still timed and logged."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        # The histogram's series by (route, method, status): prometheus-client checks and
        # looks up the labels at every `labels` call, and a worker sees the same few series.
        self._durations: dict[tuple[str, str, int], Histogram] = {}

    async def start(self, request: Request) -> None:
        """Bind the request id to every log line of this request, and the metrics; the
        pipeline's ASGI layer echoes the id in the response."""
        self.begin(request.scope, request.headers.get(REQUEST_ID_HEADER))

    def begin(self, scope: HTTPScope | WebsocketScope, sent_id: str | None) -> None:
        """`start` for a request given its scope and the id it sent (a lane's, too)."""
        # A request a lane left to the framework keeps the id the lane gave it.
        request_id = scope.get(REQUEST_ID_KEY) or request_id_from(sent_id)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope[REQUEST_ID_KEY] = request_id  # type: ignore[literal-required]
        bind_metrics(self.metrics)

    def finish(self, request: Request, response: Response) -> None:
        """One histogram observation and one log event."""
        rule = request.url_rule
        route = rule.rule if rule is not None else UNMATCHED_ROUTE
        self.end(request.scope, route, request.path, response.status_code, request.method)

    def end(
        self,
        scope: HTTPScope | WebsocketScope,
        route: str,
        path: str,
        status: int,
        method: str,
    ) -> None:
        """`finish` for a request given its scope, the rule it matched, its path, status and
        method."""
        started = scope.get(STARTED_KEY)
        seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
        self._duration(route, method, status).observe(seconds)
        if status == 429:
            self.metrics.rate_limited.labels(route).inc()
        log_info(
            "request",
            logger=LOGGER_NAME,
            method=method,
            route=route,
            path=redacted_path(path),
            status=status,
            duration_ms=round(seconds * 1000, 1),
        )

    def _duration(self, route: str, method: str, status: int) -> Histogram:
        key = (route, method, status)
        series = self._durations.get(key)
        if series is None:
            series = self.metrics.http_request_duration.labels(route, method, str(status))
            self._durations[key] = series
        return series
