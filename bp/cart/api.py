"""The internal JSON API other coop apps call (bearer token, no CSRF)."""

from __future__ import annotations

from decimal import Decimal

from quart import Blueprint, Response, current_app, jsonify, request

from bp.cart.services.adopt import adopt_anonymous_cart
from bp.cart.services.identity import adoption_params, identity_from_params
from config.settings import Settings
from lib.db import request_session
from lib.errors import BadRequest
from lib.internal_auth import require_internal_token
from services.registry import services

bp = Blueprint("internal_cart", __name__, url_prefix="/internal/cart")


def amount(value: Decimal) -> str:
    """Money in JSON: a string with two places."""
    return f"{value.quantize(Decimal('0.01')):.2f}"


@bp.get("/summary")
@require_internal_token
async def summary() -> Response:
    """Counts and totals of one cart: `?user_id=N` or `?session_id=S`."""
    identity = identity_from_params(
        request.args.get("user_id"), request.args.get("session_id"), from_query=True
    )
    cart = await services.cart.cart_summary(request_session(), identity=identity)
    settings: Settings = current_app.extensions["settings"]
    return jsonify(
        {
            "count": cart.count,
            "total": amount(cart.total),
            "calendar_count": cart.calendar_count,
            "calendar_total": amount(cart.calendar_total),
            "ticket_count": cart.ticket_count,
            "ticket_total": amount(cart.ticket_total),
            "grand_total": amount(cart.grand_total),
            "currency": cart.currency or settings.currency,
        }
    )


@bp.post("/adopt")
@require_internal_token
async def adopt() -> Response:
    """The account app's sign-in: give `session_id`'s cart to `user_id`; idempotent."""
    body = await request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(
            'Send a JSON object: {"user_id": N, "session_id": "S"}.', code="INVALID_JSON"
        )
    user_id, session_id = adoption_params(body.get("user_id"), body.get("session_id"))
    settings: Settings = current_app.extensions["settings"]
    adoption = await adopt_anonymous_cart(
        request_session(),
        session_id=session_id,
        user_id=user_id,
        max_quantity=settings.max_line_quantity,
    )
    result = adoption.result
    return jsonify(
        {
            "items": result.items,
            "entries": result.entries,
            "tickets": result.tickets,
            "orders": result.orders,
        }
    )


from bp.cart import refund_api  # noqa: E402, F401
