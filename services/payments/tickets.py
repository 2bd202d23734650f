"""Ticket capacity at checkout, and tickets that sold out before their payment arrived.

The CalendarService protocol has no capacity count nor a way to cancel single tickets, so these
two read and write the events domain's shared tables directly, under its row locks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lib.errors import ServiceError
from models import SOLD_TICKET_STATES, Ticket, TicketType
from services.contracts.dtos import TicketDTO


async def check_ticket_capacity(session: AsyncSession, tickets: Sequence[TicketDTO]) -> None:
    """Refuse (409) tickets that no longer fit their type's capacity; locks the types."""
    wanted = Counter(t.ticket_type_id for t in tickets if t.ticket_type_id is not None)
    if not wanted:
        return
    types = list(
        await session.scalars(
            select(TicketType)
            .where(TicketType.id.in_(sorted(wanted)))
            .order_by(TicketType.id)
            .with_for_update()
        )
    )
    limited = [t for t in types if t.capacity is not None]
    if not limited:
        return
    counted = await session.execute(
        select(Ticket.ticket_type_id, func.count())
        .where(
            Ticket.ticket_type_id.in_([t.id for t in limited]),
            Ticket.state.in_(SOLD_TICKET_STATES),
        )
        .group_by(Ticket.ticket_type_id)
    )
    sold = {type_id: count for type_id, count in counted}
    for ticket_type in limited:
        assert ticket_type.capacity is not None
        left = max(ticket_type.capacity - sold.get(ticket_type.id, 0), 0)
        if wanted[ticket_type.id] > left:
            name = next(
                (t.entry_name for t in tickets if t.ticket_type_id == ticket_type.id), "the event"
            )
            if left == 0:
                message = (
                    f"“{ticket_type.name}” tickets for {name} are sold out. "
                    "Please remove them from your cart."
                )
            else:
                message = (
                    f"Only {left} “{ticket_type.name}” ticket{'s' if left != 1 else ''} "
                    f"for {name} {'are' if left != 1 else 'is'} left. Please change your cart."
                )
            raise ServiceError(409, "TICKETS_SOLD_OUT", message)


async def cancel_oversold_tickets(
    session: AsyncSession, *, order_id: int, ticket_ids: Sequence[int]
) -> int:
    """Cancel the order's tickets that could not be confirmed (the caller commits)."""
    if not ticket_ids:
        return 0
    result = await session.execute(
        update(Ticket)
        .where(
            Ticket.id.in_(list(ticket_ids)),
            Ticket.order_id == order_id,
            Ticket.state.in_(("pending", "reserved")),
        )
        .values(state="cancelled")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
