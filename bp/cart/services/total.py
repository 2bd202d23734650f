"""Totals of cart contents, in Decimal with two places."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from services.contracts.dtos import ZERO, CalendarEntryDTO, CartLineDTO, TicketDTO

CENT = Decimal("0.01")


def lines_total(lines: Iterable[CartLineDTO]) -> Decimal:
    """Sum of the product lines at current prices."""
    return sum((line.line_total for line in lines), ZERO).quantize(CENT)


def entries_total(entries: Iterable[CalendarEntryDTO]) -> Decimal:
    """Sum of the bookings' costs."""
    return sum((entry.cost for entry in entries), ZERO).quantize(CENT)


def tickets_total(tickets: Iterable[TicketDTO]) -> Decimal:
    """Sum of the tickets' costs."""
    return sum((ticket.cost for ticket in tickets), ZERO).quantize(CENT)
