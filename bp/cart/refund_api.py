"""POST /internal/cart/orders/<order_id>/refund: an operator refunds a paid order through SumUp."""

from __future__ import annotations

from quart import Response, jsonify
from quart_schema import document_response

from bp.cart.api_models import Refund, RefundRequest
from bp.cart.blueprints import internal_bp
from bp.cart.services.refunds import refund_order
from bp.runtime import current_runtime, request_session
from lib.idempotency import idempotent
from lib.ids import ID
from lib.internal_auth import require_internal_token
from lib.money import amount_text
from lib.openapi import api_errors
from lib.validation import validate_body


@internal_bp.post(f"/orders/<{ID}:order_id>/refund")
@require_internal_token
@api_errors(400, 401, 404, 409, 413, 422, 429, 503)
@validate_body(RefundRequest, optional=True)
@idempotent
@document_response(Refund)
async def refund(order_id: int, data: RefundRequest) -> Response:
    """Refund the order (JSON `{"amount": "x.xx"}`, or by default what it could not deliver)."""
    runtime = current_runtime()
    result = await refund_order(
        request_session(),
        order_id=order_id,
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
        amount=data.amount,
    )
    answer = Refund(
        order_id=result.order_id,
        refunded_amount=amount_text(result.amount),
        currency=result.currency,
        refunded_at=result.refunded_at.isoformat(),
    )
    return jsonify(answer.model_dump(mode="json"))
