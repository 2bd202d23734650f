"""Bookings and tickets in a cart, from the events domain."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.dtos import PAGE_CONTAINER, CalendarEntryDTO, CartIdentity, TicketDTO
from services.registry import DomainServices


def entry_page_id(entry: CalendarEntryDTO) -> int | None:
    """The page a booking belongs to: its calendar's container, when that is a page."""
    if entry.calendar_container_type == PAGE_CONTAINER:
        return entry.calendar_container_id
    return None


def ticket_page_id(ticket: TicketDTO) -> int | None:
    """The page a ticket belongs to: its event's calendar container, when that is a page."""
    if ticket.calendar_container_type == PAGE_CONTAINER:
        return ticket.calendar_container_id
    return None


async def get_calendar_cart_entries(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    domains: DomainServices,
    page_id: int | None = None,
) -> list[CalendarEntryDTO]:
    """Pending bookings of the identity, of one page if given."""
    entries = await domains.calendar.pending_entries(session, identity=identity)
    if page_id is None:
        return entries
    return [entry for entry in entries if entry_page_id(entry) == page_id]


async def get_ticket_cart_entries(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    domains: DomainServices,
    page_id: int | None = None,
) -> list[TicketDTO]:
    """Pending tickets of a signed-in user, of one page if given; none for an anonymous cart."""
    if identity.user_id is None:
        return []
    tickets = await domains.calendar.pending_tickets(session, user_id=identity.user_id)
    if page_id is None:
        return tickets
    return [ticket for ticket in tickets if ticket_page_id(ticket) == page_id]
