"""What the shopper sees on coming back from SumUp: paid, failed, or still being confirmed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_messages import confirmed_message, held_phrase, released_message
from bp.cart.services.order_rows import OrderLine, OrderRow, read_owned_order
from bp.cart.services.order_state import OrderNotFound, payment_window_ends_at
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from bp.order.services.order_ticket_lines import OrderTicketGroup, group_order_tickets
from config.settings import Settings
from models import OPEN_STATUSES, PAID_TICKET_STATES
from services.contracts.dtos import CartIdentity, TicketDTO
from services.registry import DomainServices
from services.sumup import PaymentGateway

# The pending page asks again every 3 s; after this many tries it stops and says so.
MAX_POLLS = 60


@dataclass(frozen=True, slots=True)
class PaidTicket:
    """A ticket line of a paid order as sold, with the ticket's state and code now."""

    title: str
    ticket_type: str | None
    starts_at: datetime | None
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    state: str | None
    ticket_code: str | None


@dataclass(frozen=True)
class ReturnView:
    """The order (with its items) and how the return page presents it."""

    order: OrderRow
    # "paid", "failed" (may pay again), "pending" (SumUp has not confirmed yet), "mismatch"
    # (SumUp took a payment that does not match the order: the coop looks into it) or "closed".
    state: str
    # SumUp could not be asked just now: still "pending", never "failed".
    unreachable: bool = False
    # What a paid order delivered ("Your 2 tickets are confirmed."); None when nothing to say.
    confirmation: str | None = None
    # Until when a failed order is kept to pay again: its payment window's end.
    kept_until: datetime | None = None
    # A paid order's tickets, one line per event and type with each ticket's code under it,
    # as the order page and the mail list them; empty until paid (no code before).
    ticket_groups: list[OrderTicketGroup[PaidTicket]] = field(default_factory=list)

    @property
    def held(self) -> str | None:
        """What a failed order keeps for its shopper ("its booking"), by its lines."""
        return held_phrase(**_claim_counts(self.order))

    @property
    def released(self) -> str | None:
        """What a closed order gave back to the cart ("Its 2 tickets are back in your cart.")."""
        return released_message(**_claim_counts(self.order))


def _claim_counts(order: OrderRow) -> dict[str, int]:
    kinds = [item.kind for item in order.items]
    return {"bookings": kinds.count("booking"), "tickets": kinds.count("ticket")}


async def return_view(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> ReturnView:
    """Settle the shopper's order by SumUp if it is still open, and say where it stands."""
    # Read alone in autocommit (no transaction is open here): one statement, no BEGIN.
    order = await _owned_order_or_raise(session, order_id=order_id, identity=identity)
    unreachable = False
    if order.status in OPEN_STATUSES and order.payment_mismatch_at is None:
        try:
            await check_sumup_status(
                session,
                order_id=order_id,
                settings=settings,
                gateway=gateway,
                domains=domains,
                source="return",
            )
        except PaymentProviderUnavailable:
            unreachable = True
        order = await _owned_order_or_raise(session, order_id=order_id, identity=identity)
    state = _state(order)
    confirmation = None
    ticket_groups: list[OrderTicketGroup[PaidTicket]] = []
    if state == "paid":
        confirmation, ticket_groups = await _delivered(session, order=order, domains=domains)
    kept_until = payment_window_ends_at(order, settings) if state == "failed" else None
    return ReturnView(
        order=order,
        state=state,
        unreachable=unreachable,
        confirmation=confirmation,
        kept_until=kept_until,
        ticket_groups=ticket_groups,
    )


async def _owned_order_or_raise(
    session: AsyncSession, *, order_id: int, identity: CartIdentity | None
) -> OrderRow:
    order = await read_owned_order(session, order_id=order_id, identity=identity)
    if order is None:
        raise OrderNotFound()
    return order


async def _delivered(
    session: AsyncSession, *, order: OrderRow, domains: DomainServices
) -> tuple[str | None, list[OrderTicketGroup[PaidTicket]]]:
    """What the paid order's bookings and tickets came to, by their states now, and its
    tickets grouped with their codes."""
    kinds = {item.kind for item in order.items}
    bookings = tickets = 0
    sold: dict[int, TicketDTO] = {}
    if "booking" in kinds:
        # Counted in one read (alone in autocommit when no transaction is open).
        bookings, _ = await domains.calendar.delivered_for_order(session, order_id=order.id)
    if "ticket" in kinds:
        # Alone in autocommit too.
        found = await domains.calendar.tickets_for_order(session, order_id=order.id)
        sold = {ticket.id: ticket for ticket in found}
        tickets = sum(1 for ticket in found if ticket.state in PAID_TICKET_STATES)
    lines = [_paid_ticket(item, sold.get(item.ref_id)) for item in order.items]
    groups = group_order_tickets(line for line in lines if line is not None)
    return confirmed_message(bookings=bookings, tickets=tickets), groups


def _paid_ticket(item: OrderLine, ticket: TicketDTO | None) -> PaidTicket | None:
    if item.kind != "ticket":
        return None
    return PaidTicket(
        title=item.title,
        ticket_type=ticket.ticket_type_name if ticket else None,
        starts_at=ticket.entry_start_at if ticket else None,
        unit_price=item.unit_price,
        quantity=item.quantity,
        line_total=item.line_total,
        state=ticket.state if ticket else None,
        ticket_code=ticket.code if ticket else None,
    )


def _state(order: OrderRow) -> str:
    if order.status == "paid":
        return "paid"
    if order.payment_mismatch_at is not None:
        return "mismatch"
    return order.status if order.status in ("failed", "pending") else "closed"
