"""One order as its owner sees it: lines at their snapshot prices, bookings, tickets, payment."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.cart.services.order_messages import confirmed_message, refund_notice, released_message
from bp.order.services.order_ticket_lines import OrderTicketGroup, group_order_tickets
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.ids import is_id
from lib.money import total
from models import OPEN_STATUSES, PAID_TICKET_STATES, Order, OrderStatus
from services.contracts.dtos import CalendarEntryDTO, CartIdentity, TicketDTO
from services.contracts.ownership import owned_by
from services.registry import DomainServices

# A booking (confirmed) or ticket (confirmed, checked in) the shopper actually got.
DELIVERED_STATES = frozenset(PAID_TICKET_STATES)


@dataclass(frozen=True, slots=True)
class OrderLineView:
    """A line of the order at the price it was sold for, with its booking or ticket state."""

    id: int
    kind: str
    title: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    # From the events domain, when it still knows the booking or ticket for this order.
    state: str | None = None
    starts_at: datetime | None = None
    ticket_code: str | None = None
    ticket_type: str | None = None
    # The calendar entry booked, or the event the ticket is for; when it ends, where known.
    entry_id: int | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    """Everything the order page shows."""

    id: int
    status: OrderStatus
    currency: str
    total_amount: Decimal
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    checkout_started_at: datetime | None
    # Since when its claims are held, and its payment attempts so far (both bounded).
    hold_started_at: datetime
    attempt: int
    sumup_transaction_code: str | None
    needs_refund: bool
    refund_amount: Decimal | None
    refunded_at: datetime | None
    # A refund sent to SumUp whose outcome SumUp has not confirmed yet.
    refund_pending: bool
    # A payment SumUp reported that did not match this order (see payment_mismatch.py).
    payment_mismatch_at: datetime | None
    payment_mismatch_reason: str | None
    payment_mismatch_resolved_at: datetime | None
    # A second payment taken after the order was paid (see second_payment.py).
    second_payment_at: datetime | None
    second_payment_amount: Decimal | None
    second_payment_refunded_at: datetime | None
    products: list[OrderLineView]
    bookings: list[OrderLineView]
    tickets: list[OrderLineView]
    # What the order's link opens it with (order_link.py), and a guest's address: shown to
    # the order's owner only.
    access_secret: str = ""
    email: str | None = None

    @property
    def link_path(self) -> str:
        """The path of the order's link, which opens it from any device."""
        return f"/orders/{self.id}/{self.access_secret}/"

    @property
    def ticket_groups(self) -> list[OrderTicketGroup[OrderLineView]]:
        """The tickets, one line per event and type, each ticket listed under its line."""
        return group_order_tickets(self.tickets)

    @property
    def payment_under_review(self) -> bool:
        """A payment that did not match the order waits for the coop."""
        return self.payment_mismatch_at is not None and self.payment_mismatch_resolved_at is None

    @property
    def can_pay_again(self) -> bool:
        """An open order may still be paid, unless a payment for it is under review."""
        return self.status in OPEN_STATUSES and not self.payment_under_review

    @property
    def holds_claims(self) -> bool:
        """An open order holding bookings or tickets for its shopper."""
        return self.status in OPEN_STATUSES and bool(self.bookings or self.tickets)

    def hold_ends_at(self, hold_minutes: int) -> datetime:
        """When its claims are released unless it is paid (`hold_minutes`: the longest an
        order may hold them, ORDER_HOLD_MAX_MINUTES)."""
        return self.hold_started_at + timedelta(minutes=hold_minutes)

    @property
    def can_check_again(self) -> bool:
        """An open order's payment may be looked at again."""
        return self.status in OPEN_STATUSES

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in (*self.products, *self.bookings, *self.tickets))

    @property
    def confirmation(self) -> str | None:
        """What a paid order delivered, by the bookings' and tickets' states now."""
        if not self.is_paid:
            return None
        return confirmed_message(
            bookings=sum(1 for line in self.bookings if line.state in DELIVERED_STATES),
            tickets=sum(1 for line in self.tickets if line.state in DELIVERED_STATES),
        )

    @property
    def released(self) -> str | None:
        """What an expired order gave back to the cart ("Its booking is back in your cart.")."""
        return released_message(bookings=len(self.bookings), tickets=len(self.tickets))

    def refund_notice(self, amount: str | None) -> str:
        """The refund still to be made, saying what could not be had (`amount` formatted)."""
        bookings = sum(1 for line in self.bookings if _undelivered(line))
        tickets = sum(1 for line in self.tickets if _undelivered(line))
        if not (bookings or tickets):
            # The events domain is stubbed (no states known): name what the order holds.
            tickets = len(self.tickets)
            bookings = 0 if tickets else len(self.bookings)
        return refund_notice(bookings=bookings, tickets=tickets, amount=amount)

    @property
    def subtotals(self) -> list[tuple[str, Decimal]]:
        """(label, amount) for each kind of line the order has, in the page's order."""
        groups = (("Items", self.products), ("Bookings", self.bookings), ("Tickets", self.tickets))
        return [
            (label, total(line.line_total for line in lines)) for label, lines in groups if lines
        ]


async def get_order_view_or_raise(
    session: AsyncSession, *, order_id: int, identity: CartIdentity | None, domains: DomainServices
) -> OrderView:
    """The order if `identity` owns it; NotFound for anyone else, as if it did not exist."""
    # A number beyond BIGINT never reaches the driver.
    if identity is None or not is_id(order_id):
        raise NotFound(ErrorCode.ORDER_NOT_FOUND)
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id, owned_by(Order, identity))
        .options(selectinload(Order.items))
    )
    if order is None:
        raise NotFound(ErrorCode.ORDER_NOT_FOUND)
    return await view_of_order(session, order=order, domains=domains)


async def view_of_order(
    session: AsyncSession, *, order: Order, domains: DomainServices
) -> OrderView:
    """The view of an order loaded with its items (its bookings and tickets asked for)."""
    kinds = {item.kind for item in order.items}
    entries: dict[int, CalendarEntryDTO] = {}
    tickets: dict[int, TicketDTO] = {}
    if "booking" in kinds:
        found = await domains.calendar.entries_for_order(session, order_id=order.id)
        entries = {entry.id: entry for entry in found}
    if "ticket" in kinds:
        sold = await domains.calendar.tickets_for_order(session, order_id=order.id)
        tickets = {ticket.id: ticket for ticket in sold}
    return _view(order, entries, tickets)


def _view(
    order: Order, entries: dict[int, CalendarEntryDTO], tickets: dict[int, TicketDTO]
) -> OrderView:
    products: list[OrderLineView] = []
    bookings: list[OrderLineView] = []
    ticket_lines: list[OrderLineView] = []
    for item in order.items:
        line = OrderLineView(
            id=item.id,
            kind=item.kind,
            title=item.title,
            quantity=item.quantity,
            unit_price=item.unit_price,
            line_total=item.line_total,
        )
        if item.kind == "booking":
            entry = entries.get(item.ref_id)
            if entry is not None:
                line = replace(
                    line,
                    state=entry.state,
                    starts_at=entry.start_at,
                    entry_id=entry.id,
                    ends_at=entry.end_at,
                )
            bookings.append(line)
        elif item.kind == "ticket":
            ticket = tickets.get(item.ref_id)
            if ticket is not None:
                line = replace(
                    line,
                    state=ticket.state,
                    starts_at=ticket.entry_start_at,
                    ticket_code=ticket.code,
                    ticket_type=ticket.ticket_type_name,
                    entry_id=ticket.entry_id,
                )
            ticket_lines.append(line)
        else:
            products.append(line)
    return OrderView(
        id=order.id,
        status=order.status,
        currency=order.currency,
        total_amount=order.total_amount,
        created_at=order.created_at,
        paid_at=order.paid_at,
        closed_at=order.closed_at,
        checkout_started_at=order.checkout_started_at,
        hold_started_at=order.hold_started_at or order.created_at,
        attempt=order.attempt,
        sumup_transaction_code=order.sumup_transaction_code,
        needs_refund=order.needs_refund,
        refund_amount=_refund_amount(order, bookings, ticket_lines),
        refunded_at=order.refunded_at,
        refund_pending=order.refund_requested_at is not None and order.refunded_at is None,
        payment_mismatch_at=order.payment_mismatch_at,
        payment_mismatch_reason=order.payment_mismatch_reason,
        payment_mismatch_resolved_at=order.payment_mismatch_resolved_at,
        second_payment_at=order.second_payment_at,
        second_payment_amount=order.second_payment_amount,
        second_payment_refunded_at=order.second_payment_refunded_at,
        products=products,
        bookings=bookings,
        tickets=ticket_lines,
        access_secret=order.access_secret,
        email=order.email,
    )


def _undelivered(line: OrderLineView) -> bool:
    """A booking or ticket paid for that the shopper did not get (a state known, not theirs)."""
    return line.state is not None and line.state not in DELIVERED_STATES


def _refund_amount(
    order: Order, bookings: list[OrderLineView], tickets: list[OrderLineView]
) -> Decimal | None:
    """What is (or will be) refunded: the recorded amount, else what payment could not deliver."""
    if order.refunded_amount is not None:
        return order.refunded_amount
    if not order.needs_refund:
        return None
    # Settlement cancels what sold out meanwhile; a line with no known state (stubbed events
    # domain) is not counted, so the notice never names an amount it cannot vouch for.
    undelivered = [line.line_total for line in (*bookings, *tickets) if _undelivered(line)]
    if not undelivered:
        return None
    return total(undelivered)
