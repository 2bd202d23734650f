"""SumUp's answer bodies: plain JSON, legacy error objects, validation arrays, Problem JSON."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from quart import Response

from sumup_standin.errors import StandinError

PROBLEM_BASE = "https://developer.sumup.com/problem"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
# How long a cut-off answer keeps its connection open after the status line.
DROP_AFTER_SECONDS = 0.05


def json_response(body: Any, status: int = 200, *, content_type: str = JSON) -> Response:
    """A JSON answer with exactly this body."""
    return Response(json.dumps(body), status=status, content_type=content_type)


def error_response(error: StandinError) -> Response:
    """The legacy `{error_code, message}` object SumUp uses for 404 and 409."""
    return json_response({"error_code": error.code, "message": error.message}, error.status)


def problem_response(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    """An `application/problem+json` answer, as SumUp's current gateway gives."""
    body = {
        "type": f"{PROBLEM_BASE}/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "trace_id": uuid.uuid4().hex,
        **extra,
    }
    return json_response(body, status, content_type=PROBLEM_JSON)


def refund_too_high_response(max_refundable: Decimal) -> Response:
    """The current refund endpoint's 422 for more than is left (reference §8).

    SumUp's example gives `max_refundable_amount` without its unit; like every other amount
    of the API it is read here as major units.
    """
    return problem_response(
        422,
        "Unprocessable Entity",
        "Refund failed.",
        "refund-failed",
        errors=[
            {
                "code": "INVALID_AMOUNT",
                "reason": "amount_too_high",
                "max_refundable_amount": float(max_refundable),
            }
        ],
    )


def dropped_response() -> Response:
    """An answer cut off after its status line: the connection closes before its body.

    An ASGI app cannot close a connection unanswered (Hypercorn answers 500 for an app that
    sends nothing), so the body never comes and Quart's response timeout ends the request
    mid-body, which makes Hypercorn close the connection; the client sees it broken.
    """

    async def never() -> AsyncIterator[bytes]:
        await asyncio.Event().wait()
        yield b""

    response = Response(never(), status=200, content_type=JSON)
    response.timeout = DROP_AFTER_SECONDS
    return response


def unauthorized_response(*, token_given: bool, legacy: bool) -> Response:
    """401 in the current Problem form, or in one of the legacy bodies."""
    if not legacy:
        return problem_response(401, "Unauthorized", "Unauthorized.", "unauthorized")
    if token_given:
        body = {"error_message": "invalid access token", "error_code": "NOT_AUTHORIZED"}
    else:
        body = {"message": "access token required", "error_code": "NOT_AUTHORIZED"}
    return json_response(body, 401)


def forbidden_response() -> Response:
    """403 for a merchant not allowed to take online payments."""
    body = {
        "error_message": "checkout_payments_not_allowed",
        "error_code": "FORBIDDEN",
        "status_code": "403",
    }
    return json_response(body, 403)


def server_error_response(status: int) -> Response:
    """A 5xx Problem answer, for the fail_*_5xx switches."""
    title = "Service Unavailable" if status == 503 else "Internal Server Error"
    return problem_response(status, title, "The server could not handle the request.", "server")


def validation_response(errors: list[dict[str, str]], *, single_object: bool) -> Response:
    """400 as the array SumUp usually sends, or as the single object it sometimes does."""
    return json_response(errors[0] if single_object else errors, 400)
