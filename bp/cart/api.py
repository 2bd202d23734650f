"""The internal JSON API other coop apps call (bearer token, no CSRF): summary and adoption."""

from __future__ import annotations

from quart import Response, jsonify, request
from quart_schema import document_querystring, document_response, validate_response

from bp.cart.api_models import Adoption, AdoptRequest, IdentityQuery
from bp.cart.blueprints import internal_bp
from bp.cart.services.adopt import adopt_anonymous_cart
from bp.cart.services.identity import identity_from_params
from bp.cart.services.summary import get_cart_summary
from bp.runtime import current_runtime, request_session
from lib.idempotency import idempotent
from lib.internal_auth import require_internal_token
from lib.openapi import api_errors
from lib.validation import validate_body
from services.contracts.cart_summary import CartSummary


@internal_bp.get("/summary")
@require_internal_token
@api_errors(400, 401, 429, 503)
@document_querystring(IdentityQuery)
@validate_response(CartSummary)
async def summary() -> CartSummary:
    """Counts and totals of one cart: `?user_id=N` or `?session_id=S`."""
    identity = identity_from_params(
        request.args.get("user_id"), request.args.get("session_id"), from_query=True
    )
    runtime = current_runtime()
    return await get_cart_summary(
        request_session(),
        identity=identity,
        currency=runtime.settings.currency,
        domains=runtime.domains,
    )


@internal_bp.post("/adopt")
@require_internal_token
@api_errors(400, 401, 409, 413, 422, 429, 503)
@validate_body(AdoptRequest)
@idempotent
@document_response(Adoption)
async def adopt(data: AdoptRequest) -> Response:
    """The account app's sign-in: give `session_id`'s cart to `user_id`; idempotent."""
    runtime = current_runtime()
    adoption = await adopt_anonymous_cart(
        request_session(),
        session_id=data.session_id,
        user_id=data.user_id,
        max_quantity=runtime.settings.max_line_quantity,
        domains=runtime.domains,
    )
    result = adoption.result
    answer = Adoption(
        items=result.items, entries=result.entries, tickets=result.tickets, orders=result.orders
    )
    return jsonify(answer.model_dump(mode="json"))
