"""POST /internal/cart/orders/<order_id>/refund: an operator refunds a paid order through SumUp."""

from __future__ import annotations

import json

from quart import Response, current_app, jsonify, request

from bp.cart import ID
from bp.cart.api import bp
from lib import lifecycle
from lib.db import request_session
from lib.errors import BadRequest
from lib.internal_auth import require_internal_token
from services.payments.refunds import parse_refund_amount, refund_order
from services.payments.runtime import gateway_of


@bp.post(f"/orders/<{ID}:order_id>/refund")
@require_internal_token
async def refund(order_id: int) -> Response:
    """Refund the order (JSON `{"amount": "x.xx"}`, or by default what it could not deliver)."""
    raw = await request.get_data()
    body: object = {}
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object, e.g. {"amount": "12.50"}.', code="INVALID_JSON")
    result = await refund_order(
        request_session(),
        order_id=order_id,
        gateway=gateway_of(current_app),
        settings=lifecycle.settings_of(current_app),
        amount=parse_refund_amount(body.get("amount")),
    )
    return jsonify(
        {
            "order_id": result.order_id,
            "refunded_amount": str(result.amount),
            "currency": result.currency,
            "refunded_at": result.refunded_at.isoformat(),
        }
    )
