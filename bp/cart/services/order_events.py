"""The order's domain events: `Create` of a `rose:Order`, `rose:OrderPaid`, and
`rose:OrderRefunded`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_rows import OrderLine, OrderRow
from config.settings import Settings
from lib.money import amount_text
from models import Order, OrderItem
from services.events import emit_event

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
OBJECT_TYPE = "rose:Order"


def order_url(settings: Settings, order_id: int) -> str:
    """The order's public page, which is also its ActivityStreams id."""
    return f"{settings.public_base_url.rstrip('/')}/orders/{order_id}/"


def order_object(
    settings: Settings, order: Order | OrderRow, items: Sequence[OrderItem | OrderLine]
) -> dict[str, Any]:
    """The order as other coop apps read it (amounts as strings with two places)."""
    body: dict[str, Any] = {
        "id": order_url(settings, order.id),
        "orderId": order.id,
        "status": order.status,
        "total": amount_text(order.total_amount),
        "currency": order.currency,
        "pageId": order.page_id,
        "items": [
            {
                "kind": item.kind,
                "refId": item.ref_id,
                "pageId": item.page_id,
                "title": item.title,
                "quantity": item.quantity,
                "unitPrice": amount_text(item.unit_price),
            }
            for item in items
        ],
    }
    if order.user_id is not None:
        body["userId"] = order.user_id
    if order.paid_at is not None:
        body["paidAt"] = order.paid_at.isoformat()
        body["transactionCode"] = order.sumup_transaction_code
    if order.needs_refund:
        body["needsRefund"] = True
    if order.refunded_at is not None and order.refunded_amount is not None:
        body["refunded"] = amount_text(order.refunded_amount)
        body["refundedAt"] = order.refunded_at.isoformat()
    return body


async def emit_order_event(
    session: AsyncSession,
    *,
    settings: Settings,
    order: Order | OrderRow,
    items: Sequence[OrderItem | OrderLine],
    event_type: str,
    activity_type: str,
) -> bool:
    """Write one of the order's events to the outbox in the caller's transaction."""
    return await emit_event(
        session,
        event_type=event_type,
        activity_type=activity_type,
        object_type=OBJECT_TYPE,
        object_id=str(order.id),
        payload=order_object(settings, order, items),
        actor=settings.public_base_url.rstrip("/"),
    )
