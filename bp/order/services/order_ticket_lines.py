"""An order's tickets as the shopper bought them: one line per event and type, with each
ticket (its state and code) listed under it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from lib.money import total


class TicketLine(Protocol):
    """What grouping needs of an order's ticket line (bp.order.services.get_order)."""

    @property
    def title(self) -> str: ...

    @property
    def ticket_type(self) -> str | None: ...

    @property
    def starts_at(self) -> datetime | None: ...

    @property
    def unit_price(self) -> Decimal: ...

    @property
    def quantity(self) -> int: ...

    @property
    def line_total(self) -> Decimal: ...


L = TypeVar("L", bound=TicketLine)


@dataclass(frozen=True, slots=True)
class OrderTicketGroup(Generic[L]):
    """The order's tickets of one event and type at one price."""

    tickets: tuple[L, ...]

    @property
    def first(self) -> L:
        return self.tickets[0]

    @property
    def title(self) -> str:
        return self.first.title

    @property
    def ticket_type(self) -> str | None:
        return self.first.ticket_type

    @property
    def starts_at(self) -> datetime | None:
        return self.first.starts_at

    @property
    def unit_price(self) -> Decimal:
        return self.first.unit_price

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.tickets)

    @property
    def line_total(self) -> Decimal:
        return total(line.line_total for line in self.tickets)


def group_order_tickets(lines: Iterable[L]) -> list[OrderTicketGroup[L]]:
    """One group per (title, type, start, price) as sold, in the order the order lists them.

    The title snapshot names the event and type; the price is the one paid, so two tickets of
    one type sold at different prices (never within one checkout) would stay apart.
    """
    grouped: dict[tuple[str, str | None, datetime | None, Decimal], list[L]] = {}
    for line in lines:
        key = (line.title, line.ticket_type, line.starts_at, line.unit_price)
        grouped.setdefault(key, []).append(line)
    return [OrderTicketGroup(tickets=tuple(group)) for group in grouped.values()]
