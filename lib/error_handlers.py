"""Every error answered in the form the caller understands, from this one place.

The internal API and SumUp's webhook get JSON, an HTMX request the error fragment in the page's
error toasts (#alerts), a browser the error page.
"""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify, render_template, request
from quart_rate_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from lib.error_codes import ErrorCode, message_of
from lib.errors import (
    UNAVAILABLE_CODES,
    ServiceError,
    concurrent_conflict,
    unavailable,
    unavailable_dependency,
)
from lib.htmx import is_htmx, to_alerts
from lib.secret_paths import redacted_path

log = logging.getLogger(__name__)

# Work PostgreSQL rolled back for a concurrent transaction may be sent again at once.
CONFLICT_RETRY_AFTER_SECONDS = 1
# SumUp retries a webhook only on a 5xx; everyone else is told it was a conflict.
WEBHOOK_PREFIX = "/checkout/webhook/"
# Paths answered in JSON: the internal API (and its OpenAPI document), SumUp's webhook, and
# what machines ask (the probes and the metrics).
JSON_PREFIXES = (
    "/internal/cart/",
    "/internal/openapi.json",
    "/checkout/webhook/",
    "/healthz",
    "/readyz",
    "/metrics",
)
# Every other app's path: even the fragments' (HTML answers) method errors are JSON.
INTERNAL_PREFIX = "/internal/"
# The code of each HTTP error the framework raises; any other is HTTP_ERROR with its description.
HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def wants_json() -> bool:
    """Internal and webhook callers get JSON; people get HTML."""
    return request.path.startswith(JSON_PREFIXES)


async def error_response(
    status: int, code: ErrorCode, message: str, *, json: bool | None = None, lean: bool = False
) -> Response:
    """Render the error as JSON (`json`, by default for the paths machines call), an HTMX
    fragment, or a full page (`lean`: one that reads nothing from the databases)."""
    if json if json is not None else wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
    elif is_htmx():
        body = await render_template("_error.html", status=status, code=code, message=message)
        response = to_alerts(Response(body, mimetype="text/html"))
    else:
        # A path that matches no route gets a page that reads nothing from the databases.
        lean = lean or request.routing_exception is not None
        body = await render_template(
            "errors/error.html", status=status, code=code, message=message, lean=lean
        )
        response = Response(body, mimetype="text/html")
    response.status_code = status
    return response


def register_error_handlers(app: Quart) -> None:
    """Map ServiceError, HTTP errors and anything unexpected in one place."""

    @app.errorhandler(ServiceError)
    async def handle_service_error(error: ServiceError) -> Response:
        response = await error_response(error.status, error.code, error.message)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    async def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 429:
            return await _too_many_requests(getattr(error, "retry_after", None))
        code = HTTP_CODES.get(status, ErrorCode.HTTP_ERROR)
        message = message_of(code, description=error.description or "Error.")
        # The framework's own refusals (no such path, or a gate answering as if there were
        # none) all look alike, and cost nothing.
        if not isinstance(error, MethodNotAllowed):
            return await error_response(status, code, message, lean=True)
        # RFC 9110 §15.5.6: a 405 names the methods the resource has.
        allowed = sorted(error.valid_methods or ())
        json = wants_json() or request.path.startswith(INTERNAL_PREFIX)
        response = await error_response(status, code, message, json=json, lean=True)
        response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(RateLimitExceeded)
    async def handle_rate_limited(error: RateLimitExceeded) -> Response:
        return await _too_many_requests(error.retry_after)

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> Response:
        if concurrent_conflict(error):
            log.warning(
                "concurrent conflict on %s %s: %s",
                request.method,
                redacted_path(request.path),
                error,
            )
            status = 503 if request.path.startswith(WEBHOOK_PREFIX) else 409
            code = ErrorCode.CONFLICT_TRY_AGAIN
            response = await error_response(status, code, message_of(code))
            response.headers["Retry-After"] = str(CONFLICT_RETRY_AFTER_SECONDS)
            return response
        dependency = unavailable_dependency(error)
        if dependency is not None:
            # Expected while a server restarts: a line in the log, a 503 for the caller.
            log.warning(
                "%s unavailable on %s %s: %s",
                dependency,
                request.method,
                redacted_path(request.path),
                error,
            )
            refusal = unavailable(UNAVAILABLE_CODES[dependency])
            response = await error_response(503, refusal.code, refusal.message)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        # The trace goes to the log, never to the browser.
        log.exception("unhandled error on %s %s", request.method, redacted_path(request.path))
        return await error_response(
            500, ErrorCode.INTERNAL_ERROR, message_of(ErrorCode.INTERNAL_ERROR)
        )


async def _too_many_requests(retry_after: object) -> Response:
    """The 429 of a caller over its rate limit, telling how long to wait."""
    wait = max(1, retry_after) if isinstance(retry_after, int) else 1
    code = ErrorCode.TOO_MANY_REQUESTS
    response = await error_response(429, code, message_of(code, wait=wait))
    response.headers["Retry-After"] = str(wait)
    return response
