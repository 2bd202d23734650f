"""Events in the outbox, as a paid order writes them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import emit_event

ACTOR = "http://cart.test"


async def emit_order_paid(
    db: AsyncSession, object_id: str = "1", *, event_type: str = "order.paid", **payload: str
) -> bool:
    """An order's `order.paid` event (or `event_type`) in the outbox, committed, its payload the
    order's id and `payload`; whether it was written (an event is written once)."""
    written = await emit_event(
        db,
        event_type=event_type,
        activity_type="rose:OrderPaid",
        object_type="rose:Order",
        object_id=object_id,
        payload={"id": f"{ACTOR}/orders/{object_id}/", **payload},
        actor=ACTOR,
    )
    await db.commit()
    return written
