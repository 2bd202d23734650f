"""Checkout: the order from the cart in one transaction, then its payment (payment_attempts.py).

The order exists before any payment starts (so a payment can never be for nothing), and the
SumUp call happens only after the order's transaction committed. A double click, a second tab
or a retried request finds the open order for the same cart and pays that one; a cart that
changed since replaces it, after its SumUp checkout was deactivated. The replacement is
checked first (sold out, several merchants, nothing to pay): a checkout that will be refused
deactivates nothing, since the open order's page may be being paid in another tab.

`checkout_cart` is the whole flow a checkout route runs; `create_order_from_cart` its first half.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import BigInteger, String, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.cart.services.booking_capacity import check_booking_capacity, slots_wanted
from bp.cart.services.calendar_cart import (
    entry_page_id,
    get_calendar_cart_entries,
    get_ticket_cart_entries,
    ticket_page_id,
)
from bp.cart.services.get_cart import load_cart_lines
from bp.cart.services.guest_email import guest_email_for
from bp.cart.services.merchants import MerchantAccount, merchant_for_page
from bp.cart.services.order_events import ORDER_CREATED, emit_order_event
from bp.cart.services.order_insert import NewLine, insert_order, next_order_id
from bp.cart.services.order_preview import OrderPreview, Seen, held_by_orders, scopes_overlap
from bp.cart.services.order_rows import OrderRow, lock_open_orders
from bp.cart.services.order_state import (
    close_order_row,
    hold_started_at,
    payment_window_ends_at,
)
from bp.cart.services.page_cart import get_page_or_raise
from bp.cart.services.payment_attempts import (
    MIN_PAYMENT_WINDOW_LEFT,
    HostedCheckoutRequest,
    deactivate_current_attempt,
    open_hosted_checkout,
    start_payment,
)
from bp.cart.services.payment_errors import HoldEnded, SplitCheckoutRequired
from bp.cart.services.places_at_commit import PlacesRule, checked_at_commit
from bp.cart.services.references import checkout_reference
from bp.cart.services.ticket_capacity import check_ticket_capacity, types_wanted
from config.settings import Settings
from lib.db import rolled_back_on_error
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, ServiceError
from lib.money import cents, total
from models import MAX_TEXT_LENGTH, Order
from services.contracts.dtos import CalendarEntryDTO, CartIdentity, CartLineDTO, PageDTO, TicketDTO
from services.contracts.ownership import owned_by
from services.registry import DomainServices
from services.sumup import PaymentGateway

# Rounds of "deactivate the order this checkout replaces, then try again" before giving up.
MAX_SUPERSEDE_ROUNDS = 3
# How many of a shopper's latest paid orders may be the one an old page's checkout paid.
PAID_ORDERS_LOOKED_AT = 5

log = logging.getLogger(__name__)

# A guest's address corrected on the open order a checkout reuses (its row locked).
_SET_EMAIL = (
    update(cast(Table, Order.__table__))
    .where(Order.__table__.c.id == bindparam("order_id", type_=BigInteger))
    .values(email=bindparam("email", type_=String), updated_at=bindparam("now"))
)


class CartChanged(ServiceError):
    """The cart changed under the checkout (a booking or ticket was taken meanwhile)."""

    def __init__(self) -> None:
        super().__init__(409, ErrorCode.CART_CHANGED)


class EarlierCheckoutPaid(ServiceError):
    """The open order this checkout would replace was paid in the meantime."""

    def __init__(self, order_id: int) -> None:
        super().__init__(409, ErrorCode.EARLIER_CHECKOUT_PAID, order_id=order_id)
        self.order_id = order_id


class CheckoutNeedsReview(Exception):
    """The order a checkout would make is not what its page showed: no order, no payment;
    the shopper sees the difference first."""


class AlreadyPaid(Exception):
    """The page checked out was already paid for, by this order."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id)
        self.order_id = order_id

    @property
    def message(self) -> str:
        return f"Order #{self.order_id} is already paid, so nothing more was charged."


@dataclass(frozen=True)
class OrderStart:
    """The order a checkout pays: made now or reused, and what the shopper should be told."""

    order_id: int
    reused: bool = False
    notices: list[str] = field(default_factory=list)
    # For an order made now: its first hosted checkout, from what making it already read.
    first_checkout: HostedCheckoutRequest | None = None


@dataclass(frozen=True)
class CheckoutStarted:
    """A checkout under way: the order, SumUp's page to pay it on, and what to tell first."""

    order_id: int
    hosted_url: str
    # The total changed from what the cart showed: the shopper sees why before paying.
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Cart:
    """The part of the cart being checked out, with current prices."""

    lines: list[CartLineDTO]
    entries: list[CalendarEntryDTO]
    tickets: list[TicketDTO]
    notices: list[str]

    @property
    def is_empty(self) -> bool:
        return not (self.lines or self.entries or self.tickets)

    def page_ids(self) -> list[int | None]:
        found = [
            *(line.product.page_id for line in self.lines),
            *(entry_page_id(entry) for entry in self.entries),
            *(ticket_page_id(ticket) for ticket in self.tickets),
        ]
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class _Superseded:
    """An open order this checkout replaces, whose SumUp checkout must be deactivated first."""

    order_id: int
    reference: str


# Each reference deactivated so far, with the checkout found under it (None: none found).
_Deactivated = dict[str, str | None]


@dataclass(frozen=True)
class _Priced:
    """A cart to be ordered: its merchant, its order lines and their total."""

    account: MerchantAccount
    items: list[NewLine]
    amount: Decimal


@dataclass(frozen=True)
class _DeactivateFirst:
    orders: list[_Superseded]


async def checkout_cart(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    page_slug: str | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    seen: Seen | None = None,
    email: str | None = None,
) -> CheckoutStarted:
    """Check out one page's cart (`page_slug`) or the whole cart: the order, then its payment.

    A guest's `email` (the form's) is required and kept on the order; a signed-in shopper's
    is ignored. Raises NotFound for an unknown page, BadRequest for a browser without a cart,
    FieldError for a guest's missing or malformed address, what `create_order_from_cart`
    raises, and CheckoutStartFailed (the order is kept) when SumUp's page cannot be opened.
    `seen` is what the checkout's page showed, when it says.
    """
    page = (
        await get_page_or_raise(session, slug=page_slug, domains=domains)
        if page_slug is not None
        else None
    )
    if identity is None:
        raise BadRequest(ErrorCode.CART_EMPTY)
    guest_email = guest_email_for(identity, email)
    start = await create_order_from_cart(
        session,
        identity=identity,
        page=page,
        settings=settings,
        gateway=gateway,
        domains=domains,
        seen=seen,
        email=guest_email,
    )
    if start.first_checkout is not None:
        # The order was made just now: no need to read it and its merchant again. Whatever
        # happens to it meanwhile is caught where the checkout is stored, under its lock.
        hosted_url = await open_hosted_checkout(
            session,
            order_id=start.order_id,
            request=start.first_checkout,
            settings=settings,
            gateway=gateway,
        )
    else:
        hosted_url = await start_payment(
            session, order_id=start.order_id, settings=settings, gateway=gateway, domains=domains
        )
    return CheckoutStarted(start.order_id, hosted_url, notices=start.notices)


async def create_order_from_cart(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    page: PageDTO | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    seen: Seen | None = None,
    email: str | None = None,
) -> OrderStart:
    """The order for the cart (one page, or all of it), made once; commits.

    `email` is the guest's address, kept on the order (the latest given, on a reused one).
    An open order for exactly this cart is returned instead of a new one. Raises BadRequest
    for an empty cart, CartChanged or TICKETS_SOLD_OUT (409), SplitCheckoutRequired for a
    cart-wide checkout paid to several merchants, SESSION_FULLY_BOOKED (409) for a session with
    too few places left, and EarlierCheckoutPaid. With `seen`, raises CheckoutNeedsReview when
    the order would differ from it, and AlreadyPaid when what it showed has been paid since.
    """
    deactivated: _Deactivated = {}
    for _ in range(MAX_SUPERSEDE_ROUNDS):
        outcome = await checked_at_commit(
            lambda at_commit: _order_transaction(
                session,
                identity=identity,
                page=page,
                settings=settings,
                domains=domains,
                deactivated=deactivated,
                seen=seen,
                email=email,
                places_at_commit=at_commit,
            ),
            work="checkout",
        )
        if isinstance(outcome, OrderStart):
            return outcome
        for superseded in outcome.orders:
            done = await deactivate_current_attempt(
                session,
                order_id=superseded.order_id,
                settings=settings,
                gateway=gateway,
                domains=domains,
                source="checkout",
            )
            if done.paid:
                raise EarlierCheckoutPaid(superseded.order_id)
            for reference in {superseded.reference, done.reference}:
                if reference:
                    deactivated[reference] = done.checkout_id
    raise ServiceError(409, ErrorCode.CHECKOUT_BUSY)


async def _order_transaction(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    page: PageDTO | None,
    settings: Settings,
    domains: DomainServices,
    deactivated: _Deactivated,
    seen: Seen | None,
    email: str | None,
    places_at_commit: bool,
) -> OrderStart | _DeactivateFirst:
    """Under the identity's lock: reuse the open order, or replace it with a new one.

    The replacement is validated with the open orders closed (their claims back in the cart),
    then, when one of them still has a live SumUp checkout, rolled back: the caller
    deactivates it and comes back. A new order's claims are checked at the commit with
    `places_at_commit` (which refuses the commit when they no longer fit), else counted
    under the places' locks first.
    """
    page_id = page.id if page is not None else None
    async with rolled_back_on_error(session):
        # Every checkout of one shopper queues here: two tabs, a double click, a retry.
        await session.execute(select(func.pg_advisory_xact_lock(_lock_key(identity))))
        # With their lines, in one statement, read as rows.
        open_orders = await lock_open_orders(session, identity)
        overlapping = [o for o in open_orders if scopes_overlap(o.page_id, page_id)]
        cart = await _read_cart(session, identity=identity, page_id=page_id, domains=domains)
        reusable = len(overlapping) == 1 and _reusable(overlapping[0], cart, page_id, settings)
        # A second click of the same button finds the order the first one made, which the
        # page did not show as waiting: that order is what the page showed, so it is paid.
        if seen is not None and not (reusable and seen.shows(overlapping[0])):
            await _check_seen(
                session,
                seen=seen,
                cart=cart,
                overlapping=overlapping,
                identity=identity,
                page_id=page_id,
                domains=domains,
            )
        if reusable:
            order_id = overlapping[0].id
            if email is not None and email != overlapping[0].email:
                # The receipt goes where the guest asked this time (a typo corrected).
                await session.execute(
                    _SET_EMAIL, {"order_id": order_id, "email": email, "now": datetime.now(UTC)}
                )
            await session.commit()
            log.info("checkout reuses open order %s", order_id)
            return OrderStart(order_id, reused=True, notices=cart.notices)
        blocked = [
            _Superseded(order.id, order.sumup_reference)
            for order in overlapping
            if order.sumup_reference is not None and _may_be_live(order, deactivated)
        ]
        for order in overlapping:
            await close_order_row(session, order_id=order.id, status="cancelled", domains=domains)
        if overlapping:
            # Their bookings and tickets are back in the cart: this order takes them.
            cart = await _read_cart(session, identity=identity, page_id=page_id, domains=domains)
        priced = await _priced(session, page=page, settings=settings, domains=domains, cart=cart)
        held_since = _held_since(overlapping)
        hold_over = held_since is not None and _hold_over(held_since, settings)
        if blocked or hold_over or priced.amount <= 0:
            # None of these makes an order: the shopper is told what the checks find, in
            # their order (places, something to pay, a live checkout, the hold).
            await _check_places(session, settings=settings, domains=domains, cart=cart)
            if priced.amount <= 0:
                raise BadRequest(ErrorCode.NOTHING_TO_PAY)
            if blocked:
                await session.rollback()
                return _DeactivateFirst(blocked)
            # The claims were held as long as an order may: released, they are anyone's, and
            # checking out again is a new order like any other.
            await session.commit()
            log.info(
                "checkout released the claims of %s: held too long", [o.id for o in overlapping]
            )
            raise HoldEnded(overlapping[0].id)
        order_id, first_checkout = await _create_order(
            session,
            identity=identity,
            page=page,
            settings=settings,
            domains=domains,
            cart=cart,
            priced=priced,
            held_since=held_since,
            email=email,
            places_at_commit=places_at_commit,
        )
        await session.commit()
    log.info(
        "order %s created (page %s, replaced %s)", order_id, page_id, [o.id for o in overlapping]
    )
    return OrderStart(order_id, notices=cart.notices, first_checkout=first_checkout)


def _held_since(replaced: list[OrderRow]) -> datetime | None:
    """Since when the claims a new order takes over from the orders it replaces are held:
    the earliest hold of those that held bookings or tickets (None when none did)."""
    starts = [
        hold_started_at(order)
        for order in replaced
        if any(item.kind in ("booking", "ticket") for item in order.items)
    ]
    return min(starts, default=None)


def _hold_over(held_since: datetime, settings: Settings) -> bool:
    """Whether a hold that began then leaves too little for a hosted page worth opening."""
    end = held_since + timedelta(minutes=settings.order_hold_max_minutes)
    return datetime.now(UTC) + MIN_PAYMENT_WINDOW_LEFT > end


def _may_be_live(order: OrderRow, deactivated: _Deactivated) -> bool:
    """Whether the order's current attempt may still have a payable SumUp checkout.

    Not when it was deactivated this checkout, unless it was found missing and a checkout
    was stored on the order since (its create was still under way when SumUp was asked), or
    another one was.
    """
    reference = order.sumup_reference
    if reference is None:
        return False
    if reference not in deactivated:
        return True
    return order.sumup_checkout_id not in (None, deactivated[reference])


def _lock_key(identity: CartIdentity) -> int:
    """A 64-bit advisory lock key for one shopper's checkouts."""
    name = f"cart-checkout:{identity.user_id}:{identity.session_id}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


async def _check_seen(
    session: AsyncSession,
    *,
    seen: Seen,
    cart: _Cart,
    overlapping: list[OrderRow],
    identity: CartIdentity,
    page_id: int | None,
    domains: DomainServices,
) -> None:
    """Raise when the order to be made is not the one the page showed (rolling back)."""
    preview = OrderPreview(
        lines=cart.lines,
        entries=cart.entries,
        tickets=cart.tickets,
        held=await held_by_orders(session, orders=overlapping, domains=domains),
        page_id=page_id,
    )
    if preview.seen() == seen:
        return
    paid = await _paid_since(session, seen=seen, identity=identity) if preview.is_empty else None
    await session.rollback()
    if paid is not None:
        raise AlreadyPaid(paid)
    raise CheckoutNeedsReview()


async def _paid_since(session: AsyncSession, *, seen: Seen, identity: CartIdentity) -> int | None:
    """The shopper's latest paid order holding what the page showed, if one does."""
    wanted = {("product", pid) for pid in seen.lines}
    wanted |= {("booking", eid) for eid in seen.entries}
    wanted |= {("ticket", tid) for tid in seen.tickets}
    if not wanted:
        return None
    paid = await session.scalars(
        select(Order)
        .where(owned_by(Order, identity), Order.status == "paid")
        .options(selectinload(Order.items))
        .order_by(Order.paid_at.desc().nulls_last(), Order.id.desc())
        .limit(PAID_ORDERS_LOOKED_AT)
    )
    for order in paid:
        if wanted <= {(item.kind, item.ref_id) for item in order.items}:
            return order.id
    return None


def _reusable(order: OrderRow, cart: _Cart, page_id: int | None, settings: Settings) -> bool:
    """The open order is exactly this cart, and its hosted page still has time left."""
    if order.page_id != page_id:
        return False
    if datetime.now(UTC) + MIN_PAYMENT_WINDOW_LEFT > payment_window_ends_at(order, settings):
        return False
    # Bookings and tickets it claimed left the cart; any still in it were added since.
    if cart.entries or cart.tickets:
        return False
    ordered = Counter(
        (item.ref_id, item.quantity, cents(item.unit_price))
        for item in order.items
        if item.kind == "product"
    )
    current = Counter(
        (line.product.id, line.quantity, cents(line.product.price)) for line in cart.lines
    )
    return ordered == current


async def _read_cart(
    session: AsyncSession, *, identity: CartIdentity, page_id: int | None, domains: DomainServices
) -> _Cart:
    """The cart's lines, bookings and tickets in scope, and notices about what was left out."""
    loaded = await load_cart_lines(session, identity=identity, domains=domains)
    lines = [line for line in loaded.lines if page_id is None or line.product.page_id == page_id]
    notices: list[str] = []
    if loaded.unavailable:
        gone = await _gone_product_titles(
            session, [line.product_id for line in loaded.unavailable], page_id, domains=domains
        )
        if gone:
            notices.append("No longer sold, so left out of this order: " + ", ".join(gone) + ".")
    return _Cart(
        lines=lines,
        entries=await get_calendar_cart_entries(
            session, identity=identity, domains=domains, page_id=page_id
        ),
        tickets=await get_ticket_cart_entries(
            session, identity=identity, domains=domains, page_id=page_id
        ),
        notices=notices,
    )


async def _gone_product_titles(
    session: AsyncSession, product_ids: list[int], page_id: int | None, *, domains: DomainServices
) -> list[str]:
    """Titles of deleted products (the market hides them), of one page when given."""
    known = await domains.market.products_by_ids(session, product_ids, include_deleted=True)
    titles = []
    for product_id in product_ids:
        row = known.get(product_id)
        if row is None:
            if page_id is None:
                titles.append("an item that was removed from the shop")
        elif page_id is None or row.page_id == page_id:
            titles.append(f"“{row.title}”")
    return titles


async def _priced(
    session: AsyncSession,
    *,
    page: PageDTO | None,
    settings: Settings,
    domains: DomainServices,
    cart: _Cart,
) -> _Priced:
    """The cart's merchant, order lines and total, when it is not empty and has one merchant.
    Raises what the shopper is told otherwise; places and the total are checked by the
    caller (`_check_places`, then something to pay)."""
    if cart.is_empty:
        raise BadRequest(ErrorCode.CART_ITEMS_GONE if cart.notices else ErrorCode.CART_EMPTY)
    account = await _merchant(session, page=page, cart=cart, settings=settings, domains=domains)
    items = _order_items(cart)
    return _Priced(account=account, items=items, amount=total(item.line_total for item in items))


async def _check_places(
    session: AsyncSession, *, settings: Settings, domains: DomainServices, cart: _Cart
) -> None:
    """Whether the cart's bookings and tickets still fit their slots and ticket types, counted
    under the slots' and types' locks, which the transaction then holds until it ends: every
    other checkout and settlement of those places waits for it, so the caller takes them as
    late as it can. Slots before ticket types, the order settlement locks them in too."""
    slots_left, types_left = await domains.calendar.checkout_availability(
        session,
        slot_ids=sorted(slots_wanted(cart.entries)),
        ticket_type_ids=sorted(types_wanted(cart.tickets)),
    )
    check_booking_capacity(entries=cart.entries, left=slots_left, settings=settings)
    check_ticket_capacity(tickets=cart.tickets, left=types_left, settings=settings)


async def _create_order(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    page: PageDTO | None,
    settings: Settings,
    domains: DomainServices,
    cart: _Cart,
    priced: _Priced,
    email: str | None,
    places_at_commit: bool,
    held_since: datetime | None = None,
) -> tuple[int, HostedCheckoutRequest]:
    """The order, its items at database prices, its claims and its event (not committed);
    and what SumUp is to be asked for its first hosted checkout. `held_since` is when the
    claims it takes over from the orders it replaces were first held."""
    account, items, amount = priced.account, priced.items, priced.amount
    claims = bool(cart.entries or cart.tickets)
    places_rule = PlacesRule.CLAIMS if places_at_commit and claims else PlacesRule.LOCKED_FIRST
    order_id = await next_order_id(session)
    scope = page.title if page is not None else "Rose Ash Coop"
    order = await insert_order(
        session,
        order_id=order_id,
        user_id=identity.user_id,
        session_id=identity.session_id,
        email=email,
        page_id=page.id if page is not None else None,
        currency=settings.currency,
        total_amount=amount,
        description=f"Order #{order_id}, {scope}"[:MAX_TEXT_LENGTH],
        merchant_code=account.merchant_code,
        sumup_reference=checkout_reference(account.checkout_prefix, order_id, 1),
        checkout_started_at=datetime.now(UTC),
        hold_started_at=held_since,
        lines=items,
        places_rule=places_rule,
    )
    await emit_order_event(
        session,
        settings=settings,
        order=order,
        items=order.items,
        event_type=ORDER_CREATED,
        activity_type="Create",
    )
    if places_rule is PlacesRule.LOCKED_FIRST:
        # Last, the places: from their locks to the commit, only their count and the claims.
        await _check_places(session, settings=settings, domains=domains, cart=cart)
    if claims:
        claimed = await domains.calendar.claim_for_order(
            session,
            order_id=order.id,
            identity=identity,
            entry_ids=[e.id for e in cart.entries],
            ticket_ids=[t.id for t in cart.tickets],
        )
        if claimed != (len(cart.entries), len(cart.tickets)):
            raise CartChanged()
    assert order.sumup_reference is not None
    first_checkout = HostedCheckoutRequest(
        credentials=account.credentials,
        reference=order.sumup_reference,
        amount=amount,
        currency=order.currency,
        description=order.description,
        valid_until=payment_window_ends_at(order, settings),
    )
    return order.id, first_checkout


async def _merchant(
    session: AsyncSession,
    *,
    page: PageDTO | None,
    cart: _Cart,
    settings: Settings,
    domains: DomainServices,
) -> MerchantAccount:
    """The page's merchant, or for the whole cart the one merchant all its pages are paid to."""
    if page is not None:
        return await merchant_for_page(
            session, settings=settings, page_id=page.id, page_title=page.title
        )
    accounts, pages = await _merchants_by_page(
        session, cart=cart, settings=settings, domains=domains
    )
    if len({account.merchant_code for account in accounts.values()}) > 1:
        raise SplitCheckoutRequired(pages=pages)
    return next(iter(accounts.values()))


async def _merchants_by_page(
    session: AsyncSession, *, cart: _Cart, settings: Settings, domains: DomainServices
) -> tuple[dict[int | None, MerchantAccount], list[PageDTO]]:
    """The merchant each page of the cart is paid to, and those pages (the live ones)."""
    page_ids = cart.page_ids()
    titles = await domains.blog.pages_by_ids(session, [p for p in page_ids if p is not None])
    accounts = {
        page_id: await merchant_for_page(
            session,
            settings=settings,
            page_id=page_id,
            page_title=titles[page_id].title if page_id in titles else None,
        )
        for page_id in page_ids
    }
    return accounts, [titles[p] for p in page_ids if p in titles]


async def split_checkout_pages(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    settings: Settings,
    domains: DomainServices,
) -> list[PageDTO]:
    """The pages to check out one by one when the cart is paid to several merchants; none when
    the whole cart can be checked out at once (or is empty). Reads only; ends its transaction."""
    pages: list[PageDTO] = []
    if identity is not None:
        cart = await _read_cart(session, identity=identity, page_id=None, domains=domains)
        if not cart.is_empty:
            accounts, found = await _merchants_by_page(
                session, cart=cart, settings=settings, domains=domains
            )
            if len({account.merchant_code for account in accounts.values()}) > 1:
                pages = found
    await session.commit()
    return pages


def _order_items(cart: _Cart) -> list[NewLine]:
    """Order lines at the prices the database has now; never a price from the browser."""
    items = [
        NewLine(
            kind="product",
            ref_id=line.product.id,
            page_id=line.product.page_id,
            title=line.product.title[:MAX_TEXT_LENGTH],
            quantity=line.quantity,
            unit_price=cents(line.product.price),
            line_total=line.line_total,
        )
        for line in cart.lines
    ]
    items += [
        NewLine(
            kind="booking",
            ref_id=entry.id,
            page_id=entry_page_id(entry),
            title=entry.name[:MAX_TEXT_LENGTH],
            quantity=1,
            unit_price=cents(entry.cost),
            line_total=cents(entry.cost),
        )
        for entry in cart.entries
    ]
    items += [
        NewLine(
            kind="ticket",
            ref_id=ticket.id,
            page_id=ticket_page_id(ticket),
            title=(
                f"{ticket.entry_name} ({ticket.ticket_type_name})"
                if ticket.ticket_type_name
                else ticket.entry_name
            )[:MAX_TEXT_LENGTH],
            quantity=1,
            unit_price=cents(ticket.cost),
            line_total=cents(ticket.cost),
        )
        for ticket in cart.tickets
    ]
    return items
