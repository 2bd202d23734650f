"""Ticket capacity at checkout, and tickets that sold out before their payment arrived.

The CalendarService protocol can neither lock a ticket type nor cancel single tickets, so those
two steps touch the events domain's shared tables directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lib.errors import ServiceError
from models import Ticket, TicketType
from services.contracts.dtos import TicketDTO
from services.registry import services


async def check_ticket_capacity(session: AsyncSession, tickets: Sequence[TicketDTO]) -> None:
    """Refuse (409) tickets that no longer fit their type's capacity.

    The ticket types are locked first, so that two shoppers checking out the last ticket at
    once are told in turn, not both sent to pay for it.
    """
    wanted = Counter(t.ticket_type_id for t in tickets if t.ticket_type_id is not None)
    if not wanted:
        return
    await session.execute(
        select(TicketType.id)
        .where(TicketType.id.in_(sorted(wanted)))
        .order_by(TicketType.id)
        .with_for_update()
    )
    left = await services.calendar.ticket_availability(session, ticket_type_ids=sorted(wanted))
    for type_id, count in sorted(wanted.items()):
        available = left.get(type_id)
        if available is None or count <= available:
            continue
        ticket = next(t for t in tickets if t.ticket_type_id == type_id)
        kind = f"“{ticket.ticket_type_name}” tickets" if ticket.ticket_type_name else "Tickets"
        if available == 0:
            message = (
                f"{kind} for {ticket.entry_name} are sold out. Please remove them from your cart."
            )
        else:
            message = (
                f"Only {available} of the {kind} for {ticket.entry_name} "
                f"{'are' if available != 1 else 'is'} left. Please change your cart."
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
