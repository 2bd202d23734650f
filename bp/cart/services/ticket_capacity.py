"""Ticket capacity at checkout: tickets that no longer fit are refused before payment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import ServiceError
from lib.localtime import format_local_datetime
from services.contracts.dtos import TicketDTO


def types_wanted(tickets: Sequence[TicketDTO]) -> Counter[int]:
    """How many tickets of each type the cart holds."""
    return Counter(t.ticket_type_id for t in tickets if t.ticket_type_id is not None)


def check_ticket_capacity(
    *,
    tickets: Sequence[TicketDTO],
    left: Mapping[int, int | None],
    settings: Settings,
) -> None:
    """Refuse (409) tickets that no longer fit their type's capacity: `left` is what the
    calendar counted after locking the types (`checkout_availability`), so that two shoppers
    checking out the last ticket at once are told in turn, not both sent to pay for it.
    """
    wanted = types_wanted(tickets)
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
        raise ServiceError(
            409, ErrorCode.TICKETS_SOLD_OUT, tickets=kind, event=event, available=available
        )
