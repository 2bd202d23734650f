"""Ticket capacity at checkout: tickets that no longer fit are refused before payment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from lib.errors import ServiceError
from lib.localtime import format_local_datetime
from services.contracts.dtos import TicketDTO
from services.registry import DomainServices


async def check_ticket_capacity(
    session: AsyncSession,
    *,
    tickets: Sequence[TicketDTO],
    settings: Settings,
    domains: DomainServices,
) -> None:
    """Refuse (409) tickets that no longer fit their type's capacity.

    The ticket types are locked first, so that two shoppers checking out the last ticket at
    once are told in turn, not both sent to pay for it.
    """
    wanted = Counter(t.ticket_type_id for t in tickets if t.ticket_type_id is not None)
    if not wanted:
        return
    left = await domains.calendar.ticket_availability(
        session, ticket_type_ids=sorted(wanted), lock=True
    )
    for type_id, count in sorted(wanted.items()):
        available = left.get(type_id)
        if available is None or count <= available:
            continue
        ticket = next(t for t in tickets if t.ticket_type_id == type_id)
        kind = f"“{ticket.ticket_type_name}” tickets" if ticket.ticket_type_name else "Tickets"
        when = format_local_datetime(
            ticket.entry_start_at, zone_name=settings.time_zone, locale=settings.locale
        )
        event = f"{ticket.entry_name} ({when})"
        if available == 0:
            message = f"{kind} for {event} are sold out. Please remove them from your cart."
        else:
            message = (
                f"Only {available} of the {kind} for {event} "
                f"{'are' if available != 1 else 'is'} left. Please change your cart."
            )
        raise ServiceError(409, "TICKETS_SOLD_OUT", message)
