"""Checkout: the order from the cart in one transaction, then SumUp's hosted checkout.

The order exists before any payment starts (so a payment can never be for nothing), and the
SumUp call happens only after the order's transaction committed. A double click, a second tab
or a retried request finds the open order for the same cart and pays that one; a cart that
changed since replaces it, after its SumUp checkout was deactivated.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.cart.services.calendar_cart import (
    entry_page_id,
    get_calendar_cart_entries,
    get_ticket_cart_entries,
    ticket_page_id,
)
from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.get_cart import load_cart_lines
from config.settings import Settings
from lib.errors import BadRequest, ServiceError
from models import Order, OrderItem
from services.contracts.dtos import CalendarEntryDTO, CartIdentity, CartLineDTO, PageDTO, TicketDTO
from services.payments.errors import (
    CheckoutStartFailed,
    PaymentProviderUnavailable,
    SplitCheckoutRequired,
)
from services.payments.merchants import MerchantAccount, credentials_for_order, merchant_for_page
from services.payments.order_events import ORDER_CREATED, emit_order_event
from services.payments.orders import (
    OPEN_STATUSES,
    close_order,
    get_owned_order_or_raise,
    load_order,
    session_ends_at,
)
from services.payments.references import checkout_reference, reference_prefix
from services.payments.tickets import check_ticket_capacity
from services.registry import services
from services.sumup import (
    CheckoutStatus,
    PaymentGateway,
    SumUpCheckout,
    SumUpCredentials,
    SumUpError,
)

CENT = Decimal("0.01")
# A hosted page with less time left than this is not worth sending a shopper to.
MIN_SESSION_LEFT = timedelta(minutes=5)
# Rounds of "deactivate the order this checkout replaces, then try again" before giving up.
MAX_SUPERSEDE_ROUNDS = 3
MAX_DESCRIPTION_LENGTH = 255

log = logging.getLogger(__name__)


class CartChanged(ServiceError):
    """The cart changed under the checkout (a booking or ticket was taken meanwhile)."""

    def __init__(self) -> None:
        super().__init__(409, "CART_CHANGED", "Your cart changed, please review it.")


class EarlierCheckoutPaid(ServiceError):
    """The open order this checkout would replace was paid in the meantime."""

    def __init__(self, order_id: int) -> None:
        super().__init__(
            409,
            "EARLIER_CHECKOUT_PAID",
            f"Your earlier checkout of this cart (order #{order_id}) has just been paid, so no "
            "new order was made. You can see it under Your orders.",
        )
        self.order_id = order_id


@dataclass(frozen=True)
class OrderStart:
    """The order a checkout pays: made now or reused, and what the shopper should be told."""

    order_id: int
    reused: bool = False
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


@dataclass(frozen=True)
class _DeactivateFirst:
    orders: list[_Superseded]


def return_url(settings: Settings, order_id: int) -> str:
    """Where SumUp's hosted page sends the shopper back to."""
    return f"{settings.public_base_url.rstrip('/')}/checkout/return/{order_id}/"


def webhook_url(settings: Settings, order_id: int) -> str:
    """SumUp's `return_url`: the webhook it calls when the checkout changes."""
    return f"{settings.public_base_url.rstrip('/')}/checkout/webhook/{order_id}/"


async def create_order_from_cart(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    page: PageDTO | None,
    settings: Settings,
    gateway: PaymentGateway,
) -> OrderStart:
    """The order for the cart (one page, or all of it), made once; commits.

    An open order for exactly this cart is returned instead of a new one. Raises BadRequest
    for an empty cart, CartChanged or TICKETS_SOLD_OUT (409), SplitCheckoutRequired for a
    cart-wide checkout paid to several merchants, and EarlierCheckoutPaid.
    """
    deactivated: set[str] = set()
    for _ in range(MAX_SUPERSEDE_ROUNDS):
        outcome = await _order_transaction(
            session, identity=identity, page=page, settings=settings, deactivated=deactivated
        )
        if isinstance(outcome, OrderStart):
            return outcome
        for superseded in outcome.orders:
            done = await deactivate_current_attempt(
                session,
                order_id=superseded.order_id,
                settings=settings,
                gateway=gateway,
                source="checkout",
            )
            if done.paid:
                raise EarlierCheckoutPaid(superseded.order_id)
            deactivated.update(r for r in (superseded.reference, done.reference) if r)
    raise ServiceError(
        409,
        "CHECKOUT_BUSY",
        "Your cart is being checked out in another window. Please try again in a moment.",
    )


async def _order_transaction(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    page: PageDTO | None,
    settings: Settings,
    deactivated: set[str],
) -> OrderStart | _DeactivateFirst:
    """Under the identity's lock: reuse the open order, or replace it with a new one."""
    page_id = page.id if page is not None else None
    try:
        # Every checkout of one shopper queues here: two tabs, a double click, a retry.
        await session.execute(select(func.pg_advisory_xact_lock(_lock_key(identity))))
        open_orders = list(
            await session.scalars(
                select(Order)
                .where(_owner(identity), Order.status.in_(OPEN_STATUSES))
                .options(selectinload(Order.items))
                .order_by(Order.id)
                .with_for_update(of=Order)
                .execution_options(populate_existing=True)
            )
        )
        overlapping = [o for o in open_orders if _scopes_overlap(o.page_id, page_id)]
        cart = await _read_cart(session, identity=identity, page_id=page_id)
        if len(overlapping) == 1 and _reusable(overlapping[0], cart, page_id, settings):
            order_id = overlapping[0].id
            await session.commit()
            log.info("checkout reuses open order %s", order_id)
            return OrderStart(order_id, reused=True, notices=cart.notices)
        blocked = [
            _Superseded(order.id, order.sumup_reference)
            for order in overlapping
            if order.sumup_reference is not None and order.sumup_reference not in deactivated
        ]
        if blocked:
            await session.rollback()
            return _DeactivateFirst(blocked)
        for order in overlapping:
            await close_order(session, order=order, status="cancelled")
        if overlapping:
            # Their bookings and tickets are back in the cart: this order takes them.
            cart = await _read_cart(session, identity=identity, page_id=page_id)
        order_id = await _create_order(
            session, identity=identity, page=page, settings=settings, cart=cart
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    log.info(
        "order %s created (page %s, replaced %s)", order_id, page_id, [o.id for o in overlapping]
    )
    return OrderStart(order_id, notices=cart.notices)


def _lock_key(identity: CartIdentity) -> int:
    """A 64-bit advisory lock key for one shopper's checkouts."""
    name = f"cart-checkout:{identity.user_id}:{identity.session_id}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


def _owner(identity: CartIdentity) -> ColumnElement[bool]:
    """The shopper's orders (as services.payments.orders.owns_order decides)."""
    if identity.user_id is not None:
        return Order.user_id == identity.user_id
    return and_(Order.session_id == identity.session_id, Order.user_id.is_(None))


def _scopes_overlap(order_page_id: int | None, page_id: int | None) -> bool:
    """A cart-wide order covers every page; two page orders overlap on the same page."""
    return order_page_id is None or page_id is None or order_page_id == page_id


def _reusable(order: Order, cart: _Cart, page_id: int | None, settings: Settings) -> bool:
    """The open order is exactly this cart, and its hosted page still has time left."""
    if order.page_id != page_id:
        return False
    if datetime.now(UTC) + MIN_SESSION_LEFT > session_ends_at(order, settings):
        return False
    # Bookings and tickets it claimed left the cart; any still in it were added since.
    if cart.entries or cart.tickets:
        return False
    ordered = Counter(
        (item.ref_id, item.quantity, item.unit_price.quantize(CENT))
        for item in order.items
        if item.kind == "product"
    )
    current = Counter(
        (line.product.id, line.quantity, line.product.price.quantize(CENT)) for line in cart.lines
    )
    return ordered == current


async def _read_cart(
    session: AsyncSession, *, identity: CartIdentity, page_id: int | None
) -> _Cart:
    """The cart's lines, bookings and tickets in scope, and notices about what was left out."""
    loaded = await load_cart_lines(session, identity=identity)
    lines = [line for line in loaded.lines if page_id is None or line.product.page_id == page_id]
    notices: list[str] = []
    if loaded.unavailable:
        gone = await _gone_product_titles(
            session, [line.product_id for line in loaded.unavailable], page_id
        )
        if gone:
            notices.append("No longer sold, so left out of this order: " + ", ".join(gone) + ".")
    return _Cart(
        lines=lines,
        entries=await get_calendar_cart_entries(session, identity=identity, page_id=page_id),
        tickets=await get_ticket_cart_entries(session, identity=identity, page_id=page_id),
        notices=notices,
    )


async def _gone_product_titles(
    session: AsyncSession, product_ids: list[int], page_id: int | None
) -> list[str]:
    """Titles of deleted products (the market hides them), of one page when given."""
    known = await services.market.products_by_ids(session, product_ids, include_deleted=True)
    titles = []
    for product_id in product_ids:
        row = known.get(product_id)
        if row is None:
            if page_id is None:
                titles.append("an item that was removed from the shop")
        elif page_id is None or row.page_id == page_id:
            titles.append(f"“{row.title}”")
    return titles


async def _create_order(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    page: PageDTO | None,
    settings: Settings,
    cart: _Cart,
) -> int:
    """The order, its items at database prices, its claims and its event (not committed)."""
    if cart.is_empty:
        message = (
            "The items in your cart are no longer available."
            if cart.notices
            else "Your cart is empty."
        )
        raise BadRequest(message, code="CART_EMPTY")
    account = await _merchant(session, page=page, cart=cart, settings=settings)
    await check_ticket_capacity(session, cart.tickets)
    items = _order_items(cart)
    total = sum((item.line_total for item in items), Decimal("0.00")).quantize(CENT)
    if total <= 0:
        raise BadRequest("There is nothing to pay for in your cart.", code="NOTHING_TO_PAY")
    now = datetime.now(UTC)
    order = Order(
        user_id=identity.user_id,
        session_id=identity.session_id,
        page_id=page.id if page is not None else None,
        status="pending",
        currency=settings.currency,
        total_amount=total,
        merchant_code=account.merchant_code,
        attempt=1,
        checkout_started_at=now,
    )
    session.add(order)
    await session.flush()
    order.sumup_reference = checkout_reference(account.checkout_prefix, order.id, 1)
    scope = page.title if page is not None else "Rose Ash Coop"
    order.description = f"Order #{order.id}, {scope}"[:MAX_DESCRIPTION_LENGTH]
    for item in items:
        item.order_id = order.id
    session.add_all(items)
    await session.flush()
    if cart.entries:
        claimed = await services.calendar.claim_entries_for_order(
            session, order_id=order.id, identity=identity, entry_ids=[e.id for e in cart.entries]
        )
        if claimed != len(cart.entries):
            raise CartChanged()
    if cart.tickets:
        assert identity.user_id is not None
        claimed = await services.calendar.claim_tickets_for_order(
            session,
            order_id=order.id,
            user_id=identity.user_id,
            ticket_ids=[t.id for t in cart.tickets],
        )
        if claimed != len(cart.tickets):
            raise CartChanged()
    await emit_order_event(
        session,
        settings=settings,
        order=order,
        items=items,
        event_type=ORDER_CREATED,
        activity_type="Create",
    )
    return order.id


async def _merchant(
    session: AsyncSession, *, page: PageDTO | None, cart: _Cart, settings: Settings
) -> MerchantAccount:
    """The page's merchant, or for the whole cart the one merchant all its pages are paid to."""
    if page is not None:
        return await merchant_for_page(
            session, settings=settings, page_id=page.id, page_title=page.title
        )
    page_ids = cart.page_ids()
    titles = await services.blog.pages_by_ids(session, [p for p in page_ids if p is not None])
    accounts = {
        page_id: await merchant_for_page(
            session,
            settings=settings,
            page_id=page_id,
            page_title=titles[page_id].title if page_id in titles else None,
        )
        for page_id in page_ids
    }
    if len({account.merchant_code for account in accounts.values()}) > 1:
        raise SplitCheckoutRequired(pages=[titles[p] for p in page_ids if p in titles])
    return next(iter(accounts.values()))


def _order_items(cart: _Cart) -> list[OrderItem]:
    """Order lines at the prices the database has now; never a price from the browser."""
    items = [
        OrderItem(
            kind="product",
            ref_id=line.product.id,
            page_id=line.product.page_id,
            title=line.product.title[:255],
            quantity=line.quantity,
            unit_price=line.product.price.quantize(CENT),
            line_total=line.line_total,
        )
        for line in cart.lines
    ]
    items += [
        OrderItem(
            kind="booking",
            ref_id=entry.id,
            page_id=entry_page_id(entry),
            title=entry.name[:255],
            quantity=1,
            unit_price=entry.cost.quantize(CENT),
            line_total=entry.cost.quantize(CENT),
        )
        for entry in cart.entries
    ]
    items += [
        OrderItem(
            kind="ticket",
            ref_id=ticket.id,
            page_id=ticket_page_id(ticket),
            title=(
                f"{ticket.entry_name} ({ticket.ticket_type_name})"
                if ticket.ticket_type_name
                else ticket.entry_name
            )[:255],
            quantity=1,
            unit_price=ticket.cost.quantize(CENT),
            line_total=ticket.cost.quantize(CENT),
        )
        for ticket in cart.tickets
    ]
    return items


@dataclass(frozen=True)
class Deactivation:
    """What deactivating an order's current payment attempt found."""

    # The attempt made unpayable; None when the order never started one.
    reference: str | None
    # SumUp had already been paid for it: the order is settled instead.
    paid: bool = False


async def deactivate_current_attempt(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    source: str,
) -> Deactivation:
    """Make the order's current SumUp checkout unpayable, before anything replaces or closes it.

    A checkout SumUp does not know is fine; one it has already processed is settled as paid.
    Raises PaymentProviderUnavailable when SumUp cannot be asked: nothing may replace or close
    a checkout that could still be paid.
    """
    order = await load_order(session, order_id)
    if order is None:
        raise ServiceError(404, "ORDER_NOT_FOUND", "We could not find that order.")
    reference, checkout_id = order.sumup_reference, order.sumup_checkout_id
    credentials = (
        await credentials_for_order(session, settings=settings, order=order)
        if reference is not None
        else None
    )
    await session.commit()
    if reference is None or credentials is None:
        return Deactivation(reference=None)
    try:
        if checkout_id is None:
            found = await gateway.list_checkouts(credentials=credentials, reference=reference)
            match = next((c for c in found if c.checkout_reference == reference), None)
            if match is None:
                return Deactivation(reference)
            checkout_id = match.id
        await gateway.deactivate_checkout(credentials=credentials, checkout_id=checkout_id)
        log.info("order %s: SumUp checkout %s deactivated (%s)", order_id, checkout_id, source)
        return Deactivation(reference)
    except SumUpError as error:
        if error.is_not_found:
            return Deactivation(reference)
        if not error.is_conflict:
            log.warning(
                "order %s: deactivating checkout %s failed: %s", order_id, checkout_id, error
            )
            raise PaymentProviderUnavailable() from error
    # 409 CHECKOUT_PROCESSED: the shopper paid it a moment ago.
    settlement = await check_sumup_status(
        session,
        order_id=order_id,
        gateway=gateway,
        settings=settings,
        checkout_id=checkout_id,
        source=source,
    )
    if not settlement.is_paid:
        log.error(
            "order %s: SumUp refused to deactivate %s but it is not paid", order_id, checkout_id
        )
        raise PaymentProviderUnavailable()
    return Deactivation(reference, paid=True)


async def start_payment(
    session: AsyncSession, *, order_id: int, gateway: PaymentGateway, settings: Settings
) -> str:
    """Where to send the shopper to pay an open order: its live hosted page, or a new one.

    Answers the return page for an order that turns out to be paid. The current attempt is
    reused while its hosted page has time left; otherwise it is deactivated and the next
    attempt (a new reference) is created.
    """
    order = await load_order(session, order_id)
    if order is None:
        raise ServiceError(404, "ORDER_NOT_FOUND", "We could not find that order.")
    if order.status == "paid":
        await session.commit()
        return return_url(settings, order_id)
    if order.status not in OPEN_STATUSES:
        await session.commit()
        raise _not_payable(order.status)
    fresh = datetime.now(UTC) + MIN_SESSION_LEFT <= session_ends_at(order, settings)
    if fresh and order.sumup_checkout_id and order.sumup_hosted_url:
        hosted_url = order.sumup_hosted_url
        await session.commit()
        try:
            settlement = await check_sumup_status(
                session, order_id=order_id, gateway=gateway, settings=settings, source="pay"
            )
        except PaymentProviderUnavailable:
            # The hosted page itself shows the shopper where the checkout stands.
            return hosted_url
        if settlement.is_paid:
            return return_url(settings, order_id)
        if settlement.status not in OPEN_STATUSES:
            raise _not_payable(settlement.status)
        if settlement.sumup_status != CheckoutStatus.EXPIRED.value:
            return hosted_url
    elif fresh and order.sumup_checkout_id is None:
        # A first try that failed, or a second tab of a new order: the same reference again.
        await session.commit()
        return await _create_hosted_checkout(
            session, order_id=order_id, gateway=gateway, settings=settings
        )
    await session.commit()
    return await _next_attempt(session, order_id=order_id, gateway=gateway, settings=settings)


def _not_payable(status: str) -> ServiceError:
    """The answer to paying an order that is paid or closed."""
    if status == "paid":
        return ServiceError(409, "ORDER_ALREADY_PAID", "This order is already paid.")
    return ServiceError(
        409,
        "ORDER_CLOSED",
        f"This order was {status} and can no longer be paid; its items are back in your cart.",
    )


async def _next_attempt(
    session: AsyncSession, *, order_id: int, gateway: PaymentGateway, settings: Settings
) -> str:
    """Deactivate the current attempt's checkout, then start the next attempt."""
    done = await deactivate_current_attempt(
        session, order_id=order_id, settings=settings, gateway=gateway, source="pay"
    )
    if done.paid:
        return return_url(settings, order_id)
    reference = done.reference
    try:
        order = await load_order(session, order_id, lock=True)
        assert order is not None
        if order.status == "paid":
            await session.commit()
            return return_url(settings, order_id)
        if order.status not in OPEN_STATUSES:
            raise _not_payable(order.status)
        if order.sumup_reference != reference:
            raise ServiceError(
                409,
                "CHECKOUT_BUSY",
                "This order is being paid in another window. Please try again in a moment.",
            )
        prefix = reference_prefix(reference, order_id) if reference else None
        if prefix is None:
            prefix = settings.sumup_checkout_prefix
        order.attempt += 1
        order.sumup_reference = checkout_reference(prefix, order_id, order.attempt)
        order.sumup_checkout_id = None
        order.sumup_hosted_url = None
        order.sumup_status = None
        order.status = "pending"
        order.checkout_started_at = datetime.now(UTC)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    log.info("order %s: payment attempt %s started", order_id, order.attempt)
    return await _create_hosted_checkout(
        session, order_id=order_id, gateway=gateway, settings=settings
    )


async def _create_hosted_checkout(
    session: AsyncSession, *, order_id: int, gateway: PaymentGateway, settings: Settings
) -> str:
    """Create the current attempt's SumUp checkout (retrying with the same reference)."""
    order = await load_order(session, order_id)
    assert order is not None and order.sumup_reference is not None
    credentials = await credentials_for_order(session, settings=settings, order=order)
    reference = order.sumup_reference
    amount, currency = order.total_amount, order.currency
    description = order.description or f"Order #{order_id}"
    valid_until = session_ends_at(order, settings)
    await session.commit()

    checkout = await _create_with_retries(
        gateway,
        order_id=order_id,
        credentials=credentials,
        reference=reference,
        amount=amount,
        currency=currency,
        description=description,
        settings=settings,
        valid_until=valid_until,
    )
    try:
        order = await load_order(session, order_id, lock=True)
        assert order is not None
        current = order.status in OPEN_STATUSES and order.sumup_reference == reference
        if current and order.sumup_checkout_id in (None, checkout.id):
            order.sumup_checkout_id = checkout.id
            order.sumup_hosted_url = checkout.hosted_checkout_url
            order.sumup_status = checkout.status.value
        status, stored_url = order.status, order.sumup_hosted_url
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    if status == "paid":
        return return_url(settings, order_id)
    if not current:
        # Replaced or closed while SumUp answered: this checkout must not be paid.
        try:
            await gateway.deactivate_checkout(credentials=credentials, checkout_id=checkout.id)
        except SumUpError as error:
            log.warning(
                "order %s: could not deactivate stray checkout %s: %s", order_id, checkout.id, error
            )
        raise ServiceError(
            409,
            "CHECKOUT_REPLACED",
            "This checkout was replaced by a newer one. Please review your cart.",
        )
    url = stored_url or checkout.hosted_checkout_url
    if not url:
        raise CheckoutStartFailed(order_id, "SumUp did not give us a payment page for this order.")
    return url


async def _create_with_retries(
    gateway: PaymentGateway,
    *,
    order_id: int,
    credentials: SumUpCredentials,
    reference: str,
    amount: Decimal,
    currency: str,
    description: str,
    settings: Settings,
    valid_until: datetime,
) -> SumUpCheckout:
    """Create the checkout; a timeout or 5xx is retried with the same reference, and a 409
    (it was created after all) is answered by looking the reference up."""
    attempts = settings.sumup_create_attempts
    for number in range(1, attempts + 1):
        try:
            return await gateway.create_checkout(
                credentials=credentials,
                reference=reference,
                amount=amount,
                currency=currency,
                description=description,
                return_url=webhook_url(settings, order_id),
                redirect_url=return_url(settings, order_id),
                valid_until=valid_until,
            )
        except SumUpError as error:
            if error.is_conflict:
                existing = await _existing_checkout(
                    gateway, order_id=order_id, credentials=credentials, reference=reference
                )
                if existing is not None and _same_payment(existing, amount, currency):
                    log.info("order %s: checkout %s already existed", order_id, reference)
                    return existing
                log.critical(
                    "order %s: SumUp has a different checkout under our reference %s: %s",
                    order_id,
                    reference,
                    existing,
                )
                raise CheckoutStartFailed(
                    order_id, "We could not start the payment for this order.", status=502
                ) from error
            if error.is_retryable and number < attempts:
                log.warning(
                    "order %s: creating checkout %s failed (%s), retrying",
                    order_id,
                    reference,
                    error,
                )
                await asyncio.sleep(settings.sumup_retry_backoff_seconds * number)
                continue
            log.error("order %s: creating checkout %s failed: %s", order_id, reference, error)
            if error.is_retryable:
                raise CheckoutStartFailed(
                    order_id,
                    "We could not reach our payment provider. Your order is saved: "
                    "please try again in a moment.",
                ) from error
            raise CheckoutStartFailed(
                order_id,
                "Our payment provider refused to start this payment. Your order is saved; "
                "please try again later or contact the coop.",
                status=502,
            ) from error
    raise AssertionError("unreachable")


async def _existing_checkout(
    gateway: PaymentGateway, *, order_id: int, credentials: SumUpCredentials, reference: str
) -> SumUpCheckout | None:
    """The checkout SumUp holds under our reference (after a 409)."""
    try:
        found = await gateway.list_checkouts(credentials=credentials, reference=reference)
    except SumUpError as error:
        log.warning("order %s: listing checkout %s failed: %s", order_id, reference, error)
        raise CheckoutStartFailed(
            order_id,
            "We could not reach our payment provider. Your order is saved: "
            "please try again in a moment.",
        ) from error
    return next((c for c in found if c.checkout_reference == reference), None)


def _same_payment(checkout: SumUpCheckout, amount: Decimal, currency: str) -> bool:
    return checkout.amount.quantize(CENT) == amount.quantize(CENT) and checkout.currency == currency


async def pay_order(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    gateway: PaymentGateway,
    settings: Settings,
) -> str:
    """Pay again: the shopper's own pending or failed order; 409 for any other."""
    order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
    await session.commit()
    if order.status not in OPEN_STATUSES:
        raise _not_payable(order.status)
    return await start_payment(session, order_id=order_id, gateway=gateway, settings=settings)


async def recheck_order(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    gateway: PaymentGateway,
    settings: Settings,
) -> str:
    """Check the shopper's order with SumUp now; answers a message for the shopper."""
    order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
    await session.commit()
    if order.status not in OPEN_STATUSES:
        return _STATUS_MESSAGES.get(order.status, "This order is settled.")
    try:
        settlement = await check_sumup_status(
            session, order_id=order_id, gateway=gateway, settings=settings, source="recheck"
        )
    except PaymentProviderUnavailable:
        return "We could not reach SumUp just now. Please check again in a minute."
    if settlement.mismatch:
        return "We could not confirm this payment automatically; the coop will look into it."
    if settlement.status == "pending":
        return "SumUp has not received a payment for this order yet."
    return _STATUS_MESSAGES.get(settlement.status, "This order is settled.")


_STATUS_MESSAGES = {
    "paid": "Your payment was received. Thank you!",
    "failed": "The last payment attempt failed. You can pay again.",
    "expired": "This order expired before it was paid; its items are back in your cart.",
    "cancelled": "This order was replaced by a newer checkout.",
}
