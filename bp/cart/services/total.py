"""Totals of cart contents, in Decimal with two places."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from lib.money import total
from services.contracts.dtos import CalendarEntryDTO, CartLineDTO, TicketDTO


def lines_total(lines: Iterable[CartLineDTO]) -> Decimal:
    """Sum of the product lines at current prices."""
    return total(line.line_total for line in lines)


def entries_total(entries: Iterable[CalendarEntryDTO]) -> Decimal:
    """Sum of the bookings' costs."""
    return total(entry.cost for entry in entries)


def tickets_total(tickets: Iterable[TicketDTO]) -> Decimal:
    """Sum of the tickets' costs."""
    return total(ticket.cost for ticket in tickets)
