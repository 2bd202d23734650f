"""Every error answered in the form the caller understands, from this one place.

The internal API and SumUp's webhook get JSON, an HTMX request the error fragment in the page's
error toasts (#alerts), a browser the error page.
"""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify, render_template, request
from quart_rate_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from lib.errors import (
    UNAVAILABLE_CODES,
    ServiceError,
    concurrent_conflict,
    unavailable,
    unavailable_dependency,
)
from lib.htmx import is_htmx, to_alerts

log = logging.getLogger(__name__)

# Work PostgreSQL rolled back for a concurrent transaction may be sent again at once.
CONFLICT_RETRY_AFTER_SECONDS = 1
CONFLICT_MESSAGE = (
    "This changed in another request at the same moment, so nothing was saved. "
    "Please try again."
)
# SumUp retries a webhook only on a 5xx; everyone else is told it was a conflict.
WEBHOOK_PREFIX = "/checkout/webhook/"
# Paths answered in JSON: the internal API (and its OpenAPI document) and SumUp's webhook.
JSON_PREFIXES = ("/internal/cart/", "/internal/openapi.json", "/checkout/webhook/")
HTTP_MESSAGES = {
    400: ("BAD_REQUEST", "The request could not be understood."),
    401: ("UNAUTHORIZED", "Authentication is required."),
    403: ("FORBIDDEN", "You are not allowed to do that."),
    404: ("NOT_FOUND", "We could not find that page."),
    405: ("METHOD_NOT_ALLOWED", "That action is not available here."),
    413: ("TOO_LARGE", "The request is too large."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The request body has a type we do not accept."),
    429: ("TOO_MANY_REQUESTS", "Too many requests; please wait a moment and try again."),
}


def wants_json() -> bool:
    """Internal and webhook callers get JSON; people get HTML."""
    return request.path.startswith(JSON_PREFIXES)


async def error_response(status: int, code: str, message: str) -> Response:
    """Render the error as JSON, an HTMX fragment, or a full page."""
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
    elif is_htmx():
        body = await render_template("_error.html", status=status, code=code, message=message)
        response = to_alerts(Response(body, mimetype="text/html"))
    else:
        body = await render_template("errors/error.html", status=status, code=code, message=message)
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
        code, message = HTTP_MESSAGES.get(status, ("HTTP_ERROR", error.description or "Error."))
        return await error_response(status, code, message)

    @app.errorhandler(RateLimitExceeded)
    async def handle_rate_limited(error: RateLimitExceeded) -> Response:
        retry_after = error.retry_after
        wait = max(1, retry_after) if isinstance(retry_after, int) else 1
        unit = "second" if wait == 1 else "seconds"
        response = await error_response(
            429,
            "TOO_MANY_REQUESTS",
            f"Too many requests in a short time. Please wait {wait} {unit} and try again.",
        )
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> Response:
        if concurrent_conflict(error):
            log.warning("concurrent conflict on %s %s: %s", request.method, request.path, error)
            status = 503 if request.path.startswith(WEBHOOK_PREFIX) else 409
            response = await error_response(status, "CONFLICT_TRY_AGAIN", CONFLICT_MESSAGE)
            response.headers["Retry-After"] = str(CONFLICT_RETRY_AFTER_SECONDS)
            return response
        dependency = unavailable_dependency(error)
        if dependency is not None:
            # Expected while a server restarts: a line in the log, a 503 for the caller.
            log.warning(
                "%s unavailable on %s %s: %s", dependency, request.method, request.path, error
            )
            refusal = unavailable(UNAVAILABLE_CODES[dependency])
            response = await error_response(503, refusal.code, refusal.message)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        # The trace goes to the log, never to the browser.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await error_response(
            500, "INTERNAL_ERROR", "Something went wrong on our side. Please try again."
        )
