"""Reading an order for payment work, and closing one (expired or cancelled) with its claims."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar, cast

from sqlalchemy import BigInteger, String, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from models import PAID_TICKET_STATES, ClosedStatus, Order, OrderStatus
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import owns
from services.registry import DomainServices

log = logging.getLogger(__name__)


class HeldOrder(Protocol):
    """What an order's payment window and hold are reckoned from (an Order, or an OrderRow)."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def checkout_started_at(self) -> datetime | None: ...

    @property
    def hold_started_at(self) -> datetime | None: ...


class ClaimLine(Protocol):
    """An order's line as far as its claims go (an OrderItem, or an OrderLine)."""

    @property
    def kind(self) -> str: ...

    @property
    def ref_id(self) -> int: ...


Line = TypeVar("Line", bound=ClaimLine)


class OrderNotFound(NotFound):
    """No such order, or (to its asker) someone else's."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.ORDER_NOT_FOUND)


async def load_order(
    session: AsyncSession, order_id: int, *, lock: bool = False, with_items: bool = False
) -> Order | None:
    """The order, optionally locked FOR UPDATE and with its items; fresh from the database."""
    statement = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if with_items:
        statement = statement.options(selectinload(Order.items))
    if lock:
        statement = statement.with_for_update(of=Order)
    return await session.scalar(statement)


async def get_order_or_raise(
    session: AsyncSession, order_id: int, *, lock: bool = False, with_items: bool = False
) -> Order:
    """The order (as load_order reads it); OrderNotFound when there is none."""
    order = await load_order(session, order_id, lock=lock, with_items=with_items)
    if order is None:
        raise OrderNotFound()
    return order


async def get_owned_order_or_raise(
    session: AsyncSession, *, order_id: int, identity: CartIdentity | None
) -> Order:
    """The shopper's order with its items; 404 for another's, as for one that does not exist."""
    order = await load_order(session, order_id, with_items=True)
    if order is None or not owns(identity, order):
        raise OrderNotFound()
    return order


async def owned_order_status(
    session: AsyncSession, *, order_id: int, identity: CartIdentity | None
) -> OrderStatus:
    """The status of the shopper's order (404 for another's); ends the read's transaction."""
    order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
    await session.commit()
    return order.status


def payment_window_opened_at(order: HeldOrder) -> datetime:
    """When the current payment attempt began."""
    return order.checkout_started_at or order.created_at


def hold_started_at(order: HeldOrder) -> datetime:
    """Since when the order's claims are held (by it, or by the order it replaced)."""
    return order.hold_started_at or order.created_at


def hold_ends_at(order: HeldOrder, settings: Settings) -> datetime:
    """When the order stops holding its claims, however often it was paid again."""
    return hold_started_at(order) + timedelta(minutes=settings.order_hold_max_minutes)


def payment_window_ends_at(order: HeldOrder, settings: Settings) -> datetime:
    """When SumUp's hosted page for the current attempt stops taking payments: its window's
    end, or the end of the order's hold if sooner."""
    window_end = payment_window_opened_at(order) + timedelta(
        minutes=settings.payment_window_minutes
    )
    return min(window_end, hold_ends_at(order, settings))


def payment_window_open(
    order: HeldOrder, settings: Settings, *, now: datetime | None = None
) -> bool:
    """Whether the current attempt's hosted page is still usable."""
    return (now or datetime.now(UTC)) < payment_window_ends_at(order, settings)


async def close_order(
    session: AsyncSession,
    *,
    order: Order,
    status: ClosedStatus,
    domains: DomainServices,
    sumup_status: str | None = None,
) -> int:
    """Expire or cancel a locked open order and release its claims (the caller commits)."""
    order.status = status
    order.closed_at = datetime.now(UTC)
    if sumup_status is not None:
        order.sumup_status = sumup_status
    released = await domains.calendar.release_claims_for_order(session, order_id=order.id)
    log.info("order %s %s; %d bookings and tickets released", order.id, status, released)
    return released


# An open order closed (expired or cancelled), its row already locked by the caller.
_CLOSE = (
    update(cast(Table, Order.__table__))
    .where(Order.__table__.c.id == bindparam("order_id", type_=BigInteger))
    .values(
        status=bindparam("status", type_=String),
        closed_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)


async def close_order_row(
    session: AsyncSession, *, order_id: int, status: ClosedStatus, domains: DomainServices
) -> int:
    """`close_order` for an order read as a row (locked by the caller, who commits)."""
    await session.execute(
        _CLOSE, {"order_id": order_id, "status": status, "now": datetime.now(UTC)}
    )
    released = await domains.calendar.release_claims_for_order(session, order_id=order_id)
    log.info("order %s %s; %d bookings and tickets released", order_id, status, released)
    return released


async def undelivered_items(
    session: AsyncSession,
    *,
    order_id: int,
    items: Sequence[Line],
    domains: DomainServices,
    delivered: tuple[frozenset[int], frozenset[int]] | None = None,
) -> list[Line]:
    """The order's bookings and tickets that are not confirmed for it (sold out, taken, gone).
    `delivered`: its bookings confirmed and its tickets paid for, when the caller knows them
    (its settlement's confirmations), so that they are not read again."""
    booking_ids = {item.ref_id for item in items if item.kind == "booking"}
    ticket_ids = {item.ref_id for item in items if item.kind == "ticket"}
    if delivered is not None:
        confirmed_entries, confirmed_tickets = delivered
    else:
        confirmed_entries, confirmed_tickets = await _delivered(
            session,
            order_id=order_id,
            bookings=bool(booking_ids),
            tickets=bool(ticket_ids),
            domains=domains,
        )
    return [
        item
        for item in items
        if (item.kind == "booking" and item.ref_id not in confirmed_entries)
        or (item.kind == "ticket" and item.ref_id not in confirmed_tickets)
    ]


async def _delivered(
    session: AsyncSession, *, order_id: int, bookings: bool, tickets: bool, domains: DomainServices
) -> tuple[frozenset[int], frozenset[int]]:
    """The order's bookings confirmed and its tickets paid for, read (each only when asked)."""
    confirmed_entries: frozenset[int] = frozenset()
    confirmed_tickets: frozenset[int] = frozenset()
    if bookings:
        confirmed_entries = frozenset(
            entry.id
            for entry in await domains.calendar.entries_for_order(session, order_id=order_id)
            if entry.state == "confirmed"
        )
    if tickets:
        confirmed_tickets = frozenset(
            ticket.id
            for ticket in await domains.calendar.tickets_for_order(session, order_id=order_id)
            if ticket.state in PAID_TICKET_STATES
        )
    return confirmed_entries, confirmed_tickets
