"""A cart's tickets as a shopper counts them: one line per event and ticket type, with a number.

Tickets are rows of their own (each has its code), but two of one type are the same thing
bought twice, so the cart shows them as one line with a quantity and a line total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lib.money import total
from services.contracts.dtos import TicketDTO


@dataclass(frozen=True, slots=True)
class TicketGroup:
    """The tickets of one type for one event in a cart, in the order they were added."""

    tickets: tuple[TicketDTO, ...]

    @property
    def first(self) -> TicketDTO:
        return self.tickets[0]

    @property
    def entry_id(self) -> int:
        return self.first.entry_id

    @property
    def entry_name(self) -> str:
        return self.first.entry_name

    @property
    def entry_start_at(self) -> datetime:
        return self.first.entry_start_at

    @property
    def ticket_type_id(self) -> int | None:
        return self.first.ticket_type_id

    @property
    def ticket_type_name(self) -> str | None:
        return self.first.ticket_type_name

    @property
    def unit_cost(self) -> Decimal:
        return self.first.cost

    @property
    def quantity(self) -> int:
        return len(self.tickets)

    @property
    def line_total(self) -> Decimal:
        return total(ticket.cost for ticket in self.tickets)

    @property
    def newest(self) -> TicketDTO:
        """The ticket a "remove one" takes out (for a ticket without a type)."""
        return max(self.tickets, key=lambda ticket: ticket.id)

    @property
    def key(self) -> str:
        """A stable name for the line in the page (ids of the event and the type)."""
        return f"{self.entry_id}-{self.ticket_type_id or 'none'}"


def group_tickets(tickets: Iterable[TicketDTO]) -> list[TicketGroup]:
    """One group per (event, ticket type), in the order the events come in the list.

    A cart prices every ticket of a type alike (today's price), so a group has one unit cost.
    """
    grouped: dict[tuple[int, int | None], list[TicketDTO]] = {}
    for ticket in tickets:
        grouped.setdefault((ticket.entry_id, ticket.ticket_type_id), []).append(ticket)
    return [TicketGroup(tickets=tuple(group)) for group in grouped.values()]
