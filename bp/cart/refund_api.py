"""POST /internal/cart/orders/<order_id>/refund: an operator refunds a paid order through SumUp."""

from __future__ import annotations

from quart import Response, jsonify, request

from bp.cart.blueprints import internal_bp
from bp.cart.services.refunds import refund_order, refund_request_amount
from bp.runtime import current_runtime, request_session
from lib.idempotency import idempotent
from lib.ids import ID
from lib.internal_auth import require_internal_token


@internal_bp.post(f"/orders/<{ID}:order_id>/refund")
@require_internal_token
@idempotent
async def refund(order_id: int) -> Response:
    """Refund the order (JSON `{"amount": "x.xx"}`, or by default what it could not deliver)."""
    amount = refund_request_amount(await request.get_data())
    runtime = current_runtime()
    result = await refund_order(
        request_session(),
        order_id=order_id,
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
        amount=amount,
    )
    return jsonify(
        {
            "order_id": result.order_id,
            "refunded_amount": str(result.amount),
            "currency": result.currency,
            "refunded_at": result.refunded_at.isoformat(),
        }
    )
