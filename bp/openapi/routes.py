"""GET /internal/openapi.json: the internal API's contract, for the coop's other apps."""

from __future__ import annotations

from quart import Response, current_app, jsonify

from bp.openapi.blueprint import bp
from lib.internal_auth import require_internal_token
from lib.openapi import openapi_document


@bp.get("/openapi.json")
@require_internal_token
async def openapi_json() -> Response:
    """The OpenAPI 3 document of the internal API (summary, adopt, refund, fragments)."""
    return jsonify(openapi_document(current_app))
