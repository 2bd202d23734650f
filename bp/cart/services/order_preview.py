"""The order a checkout would make, as the cart page shows it, and the fingerprint of it.

A checkout of a page (or of the whole cart) orders the cart's lines, bookings and tickets in
that scope, and takes back the bookings and tickets an open order of the same scope still
holds (that order is replaced). So what the page shows, the amount on its checkout button and
what SumUp asks for are all this one preview. The page's checkout form carries its fingerprint;
a checkout whose preview no longer has that fingerprint makes no order and opens no payment:
the shopper reviews the difference first (bp/cart/services/review.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.calendar_cart import (
    entry_page_id,
    get_calendar_cart_entries,
    get_ticket_cart_entries,
    ticket_page_id,
)
from bp.cart.services.cart_ticket_lines import TicketGroup, group_tickets
from bp.cart.services.get_cart import get_cart_lines
from bp.cart.services.order_rows import OrderRow, read_open_orders
from lib.money import cents, total
from models import Order
from services.contracts.dtos import CalendarEntryDTO, CartIdentity, CartLineDTO, TicketDTO
from services.registry import DomainServices
from services.sql.cart_impl import OpenOrder

# A fingerprint longer than this was not made by our pages.
MAX_FINGERPRINT_LENGTH = 6000


@dataclass(frozen=True)
class HeldOrder:
    """An open order of the shopper: what it holds out of the cart while it waits for payment."""

    order_id: int
    status: str
    page_id: int | None
    total_amount: Decimal
    currency: str
    product_count: int
    entries: list[CalendarEntryDTO]
    tickets: list[TicketDTO]

    @property
    def ticket_groups(self) -> list[TicketGroup]:
        return group_tickets(self.tickets)

    @property
    def held_total(self) -> Decimal:
        """What its bookings and tickets cost (its products never left the cart)."""
        return total([*(e.cost for e in self.entries), *(t.cost for t in self.tickets)])

    def summary(self) -> str:
        """What it is, in a few words: "2 tickets, 1 product"."""
        parts = []
        for count, noun in (
            (len(self.tickets), "ticket"),
            (len(self.entries), "booking"),
            (self.product_count, "product"),
        ):
            if count:
                parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
        return ", ".join(parts) or "nothing"


@dataclass(frozen=True)
class OrderPreview:
    """The order a checkout of this scope would make now, and the open orders it replaces.

    Its parts are never changed once made, so what is derived from them (the total, the
    fingerprint) is worked out once: a page reads the total three times a card."""

    lines: list[CartLineDTO]
    entries: list[CalendarEntryDTO]
    tickets: list[TicketDTO]
    held: list[HeldOrder] = field(default_factory=list)
    page_id: int | None = None

    def _in_scope(self, page_id: int | None) -> bool:
        return self.page_id is None or page_id == self.page_id

    @cached_property
    def held_entries(self) -> list[CalendarEntryDTO]:
        """Bookings of this scope that the open orders hold: the checkout takes them back."""
        return [e for o in self.held for e in o.entries if self._in_scope(entry_page_id(e))]

    @cached_property
    def held_tickets(self) -> list[TicketDTO]:
        return [t for o in self.held for t in o.tickets if self._in_scope(ticket_page_id(t))]

    @cached_property
    def all_entries(self) -> list[CalendarEntryDTO]:
        return [*self.entries, *self.held_entries]

    @cached_property
    def all_tickets(self) -> list[TicketDTO]:
        return [*self.tickets, *self.held_tickets]

    @cached_property
    def ticket_groups(self) -> list[TicketGroup]:
        """Every ticket of the order, one line per event and ticket type."""
        return group_tickets(self.all_tickets)

    @cached_property
    def held_total(self) -> Decimal:
        return total([*(e.cost for e in self.held_entries), *(t.cost for t in self.held_tickets)])

    @cached_property
    def total(self) -> Decimal:
        """What SumUp will be asked for."""
        return total(
            [
                *(line.line_total for line in self.lines),
                *(e.cost for e in self.all_entries),
                *(t.cost for t in self.all_tickets),
            ]
        )

    @property
    def is_empty(self) -> bool:
        return not (self.lines or self.all_entries or self.all_tickets)

    def seen(self) -> Seen:
        """The preview as a shopper sees it."""
        return Seen(
            total=cents(self.total),
            lines={
                line.product.id: (line.quantity, cents(line.product.price)) for line in self.lines
            },
            entries={e.id: cents(e.cost) for e in self.all_entries},
            tickets={t.id: cents(t.cost) for t in self.all_tickets},
            held=tuple(sorted(o.order_id for o in self.held)),
        )

    @cached_property
    def fingerprint(self) -> str:
        """What the checkout form carries: this preview, compact and URL-safe."""
        return self.seen().encode()


@dataclass(frozen=True)
class Seen:
    """What a page showed: product lines (quantity, unit price), bookings and tickets (price),
    the open orders it replaces, and the total."""

    total: Decimal
    lines: dict[int, tuple[int, Decimal]]
    entries: dict[int, Decimal]
    tickets: dict[int, Decimal]
    held: tuple[int, ...]

    def shows(self, order: OrderRow) -> bool:
        """Whether the order is, line for line and in total, what the page showed (whatever
        waiting orders it showed)."""
        lines: dict[int, tuple[int, Decimal]] = {}
        entries: dict[int, Decimal] = {}
        tickets: dict[int, Decimal] = {}
        for item in order.items:
            if item.kind == "product":
                lines[item.ref_id] = (item.quantity, cents(item.unit_price))
            elif item.kind == "booking":
                entries[item.ref_id] = cents(item.unit_price)
            elif item.kind == "ticket":
                tickets[item.ref_id] = cents(item.unit_price)
        shown = (self.total, self.lines, self.entries, self.tickets)
        return (cents(order.total_amount), lines, entries, tickets) == shown

    def encode(self) -> str:
        document = {
            "t": str(self.total),
            "l": sorted([pid, qty, str(price)] for pid, (qty, price) in self.lines.items()),
            "e": sorted([eid, str(cost)] for eid, cost in self.entries.items()),
            "k": sorted([tid, str(cost)] for tid, cost in self.tickets.items()),
            "h": list(self.held),
        }
        raw = json.dumps(document, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_seen(fingerprint: str | None) -> Seen | None:
    """The page's preview from its fingerprint; None for a missing or unreadable one."""
    if not fingerprint or len(fingerprint) > MAX_FINGERPRINT_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(fingerprint + "=" * (-len(fingerprint) % 4))
        document = json.loads(raw)
        return Seen(
            total=cents(Decimal(str(document["t"]))),
            lines={
                int(pid): (int(qty), cents(Decimal(str(price))))
                for pid, qty, price in document["l"]
            },
            entries={int(eid): cents(Decimal(str(cost))) for eid, cost in document["e"]},
            tickets={int(tid): cents(Decimal(str(cost))) for tid, cost in document["k"]},
            held=tuple(int(oid) for oid in document["h"]),
        )
    except (ValueError, TypeError, KeyError, ArithmeticError):
        return None


def scopes_overlap(order_page_id: int | None, page_id: int | None) -> bool:
    """A cart-wide order covers every page; two page orders overlap on the same page."""
    return order_page_id is None or page_id is None or order_page_id == page_id


async def held_by_orders(
    session: AsyncSession, *, orders: Sequence[Order | OrderRow], domains: DomainServices
) -> list[HeldOrder]:
    """What each of these open orders holds out of the cart."""
    held = []
    for order in orders:
        entries = await domains.calendar.entries_for_order(session, order_id=order.id)
        tickets = await domains.calendar.tickets_for_order(session, order_id=order.id)
        held.append(
            HeldOrder(
                order_id=order.id,
                status=order.status,
                page_id=order.page_id,
                total_amount=order.total_amount,
                currency=order.currency,
                product_count=sum(i.quantity for i in order.items if i.kind == "product"),
                entries=[e for e in entries if e.state == "ordered"],
                tickets=[t for t in tickets if t.state == "reserved"],
            )
        )
    return held


def held_by_open_orders(
    orders: Sequence[OpenOrder],
    entries: Sequence[CalendarEntryDTO],
    tickets: Sequence[TicketDTO],
    *,
    page_id: int | None,
) -> list[HeldOrder]:
    """`waiting_orders` from what the page's statement read: the open orders that a checkout
    of this scope would replace, each with the bookings and tickets it holds."""
    return [
        HeldOrder(
            order_id=order.id,
            status=order.status,
            page_id=order.page_id,
            total_amount=order.total_amount,
            currency=order.currency,
            product_count=order.product_units,
            entries=[e for e in entries if e.order_id == order.id],
            tickets=[t for t in tickets if t.order_id == order.id],
        )
        for order in orders
        if scopes_overlap(order.page_id, page_id)
    ]


async def waiting_orders(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    page_id: int | None,
    domains: DomainServices,
) -> list[HeldOrder]:
    """The shopper's open orders that a checkout of this scope (a page, or None: everything)
    would replace, with what they hold."""
    if identity is None:
        return []
    orders = await read_open_orders(session, identity)
    overlapping = [o for o in orders if scopes_overlap(o.page_id, page_id)]
    return await held_by_orders(session, orders=overlapping, domains=domains)


async def order_preview(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    page_id: int | None,
    domains: DomainServices,
) -> OrderPreview:
    """The order a checkout of this page (None: of the whole cart) would make now."""
    if identity is None:
        return OrderPreview(lines=[], entries=[], tickets=[], page_id=page_id)
    return OrderPreview(
        lines=await get_cart_lines(session, identity=identity, domains=domains, page_id=page_id),
        entries=await get_calendar_cart_entries(
            session, identity=identity, domains=domains, page_id=page_id
        ),
        tickets=await get_ticket_cart_entries(
            session, identity=identity, domains=domains, page_id=page_id
        ),
        held=await waiting_orders(session, identity=identity, page_id=page_id, domains=domains),
        page_id=page_id,
    )
