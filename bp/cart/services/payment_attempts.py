"""Payment attempts of an order: SumUp hosted checkouts created, retried, replaced, rechecked.

Each attempt has its own reference (`<prefix><order>-<attempt>`). A create that timed out is
retried with the same reference, and a 409 recovered by listing it, so one attempt is never two
checkouts; an attempt is deactivated before the next one starts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import BigInteger, String, Table, any_, bindparam, func, literal, or_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.merchants import credentials_for_order
from bp.cart.services.order_state import (
    close_order,
    get_order_or_raise,
    hold_ends_at,
    payment_window_ends_at,
)
from bp.cart.services.payment_errors import (
    CheckoutStartFailed,
    HoldEnded,
    PaymentProviderUnavailable,
)
from bp.cart.services.references import checkout_reference, reference_prefix
from config.settings import Settings
from lib.db import Query, commit_begun, execute_alone, rolled_back_on_error
from lib.error_codes import ErrorCode
from lib.errors import ServiceError
from lib.money import cents
from models import OPEN_STATUSES, Order
from services.registry import DomainServices
from services.sumup import (
    CheckoutStatus,
    PaymentGateway,
    SumUpCheckout,
    SumUpCredentials,
    SumUpError,
    checkout_of_reference,
)

# A hosted page with less time left than this is not worth sending a shopper to.
MIN_PAYMENT_WINDOW_LEFT = timedelta(minutes=5)

_ORDERS = cast(Table, Order.__table__)
# The hosted checkout SumUp made, stored on the order when it is still the attempt's (open,
# the same reference, no other checkout stored): built once, every checkout runs it.
_STORE_CHECKOUT = Query(
    update(_ORDERS)
    .where(
        _ORDERS.c.id == bindparam("order_id", type_=BigInteger),
        _ORDERS.c.status == any_(literal(list(OPEN_STATUSES), ARRAY(String))),
        _ORDERS.c.sumup_reference == bindparam("reference", type_=String),
        or_(
            _ORDERS.c.sumup_checkout_id.is_(None),
            _ORDERS.c.sumup_checkout_id == bindparam("checkout_id", type_=String),
        ),
    )
    .values(
        sumup_checkout_id=bindparam("checkout_id", type_=String),
        sumup_hosted_url=bindparam("hosted_url", type_=String),
        sumup_status=bindparam("sumup_status", type_=String),
        updated_at=func.now(),
    )
    .returning(_ORDERS.c.status, _ORDERS.c.sumup_hosted_url)
)

log = logging.getLogger(__name__)


def return_url(settings: Settings, order_id: int) -> str:
    """Where SumUp's hosted page sends the shopper back to."""
    return f"{settings.public_base_url.rstrip('/')}/checkout/return/{order_id}/"


def webhook_url(settings: Settings, order_id: int) -> str:
    """SumUp's `return_url`: the webhook it calls when the checkout changes."""
    return f"{settings.public_base_url.rstrip('/')}/checkout/webhook/{order_id}/"


@dataclass(frozen=True)
class Deactivation:
    """What deactivating an order's current payment attempt found."""

    # The attempt made unpayable; None when the order never started one.
    reference: str | None
    # The checkout deactivated; None when SumUp had none under the reference (yet: a create
    # still under way may make one after this, and store it on the order).
    checkout_id: str | None = None
    # SumUp had already been paid for it: the order is settled instead.
    paid: bool = False


async def deactivate_current_attempt(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    source: str,
) -> Deactivation:
    """Make the order's current SumUp checkout unpayable, before anything replaces or closes it.

    A checkout SumUp does not know is fine; one it has already processed is settled as paid.
    Raises PaymentProviderUnavailable when SumUp cannot be asked: nothing may replace or close
    a checkout that could still be paid.
    """
    order = await get_order_or_raise(session, order_id)
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
            match = await checkout_of_reference(
                gateway, credentials=credentials, reference=reference
            )
            if match is None:
                return Deactivation(reference)
            checkout_id = match.id
        await gateway.deactivate_checkout(credentials=credentials, checkout_id=checkout_id)
        log.info("order %s: SumUp checkout %s deactivated (%s)", order_id, checkout_id, source)
        return Deactivation(reference, checkout_id)
    except SumUpError as error:
        if error.is_not_found:
            return Deactivation(reference, checkout_id)
        if not error.is_conflict:
            log.warning(
                "order %s: deactivating checkout %s failed: %s", order_id, checkout_id, error
            )
            raise PaymentProviderUnavailable() from error
    # 409 CHECKOUT_PROCESSED: the shopper paid it a moment ago.
    settlement = await check_sumup_status(
        session,
        order_id=order_id,
        settings=settings,
        gateway=gateway,
        domains=domains,
        checkout_id=checkout_id,
        source=source,
    )
    if settlement.is_paid:
        return Deactivation(reference, checkout_id, paid=True)
    if settlement.mismatch:
        # Paid, but not for this order as it stands: it can never pay it, nor be deactivated;
        # the mark on the order leaves its money to the coop.
        log.warning(
            "order %s: checkout %s was paid without matching the order; closing past it",
            order_id,
            checkout_id,
        )
        return Deactivation(reference, checkout_id)
    log.error("order %s: SumUp refused to deactivate %s but it is not paid", order_id, checkout_id)
    raise PaymentProviderUnavailable()


async def start_payment(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> str:
    """Where to send the shopper to pay an open order: its live hosted page, or a new one.

    Answers the return page for an order that turns out to be paid. The current attempt is
    reused while its hosted page has time left; otherwise it is deactivated and the next
    attempt (a new reference) is created.
    """
    order = await get_order_or_raise(session, order_id)
    if order.status == "paid":
        await session.commit()
        return return_url(settings, order_id)
    if order.status not in OPEN_STATUSES:
        await session.commit()
        raise not_payable(order.status)
    if order.payment_mismatch_at is not None and order.payment_mismatch_resolved_at is None:
        await session.commit()
        raise PaymentUnderReview(order_id)
    fresh = datetime.now(UTC) + MIN_PAYMENT_WINDOW_LEFT <= payment_window_ends_at(order, settings)
    if fresh and order.sumup_checkout_id and order.sumup_hosted_url:
        hosted_url = order.sumup_hosted_url
        await session.commit()
        try:
            settlement = await check_sumup_status(
                session,
                order_id=order_id,
                settings=settings,
                gateway=gateway,
                domains=domains,
                source="pay",
            )
        except PaymentProviderUnavailable:
            # The hosted page itself shows the shopper where the checkout stands.
            return hosted_url
        if settlement.is_paid:
            return return_url(settings, order_id)
        if settlement.status not in OPEN_STATUSES:
            raise not_payable(settlement.status)
        if settlement.sumup_status != CheckoutStatus.EXPIRED.value:
            return hosted_url
    elif fresh and order.sumup_checkout_id is None:
        # A first try that failed, or a second tab of a new order: the same reference again.
        await session.commit()
        return await _create_hosted_checkout(
            session, order_id=order_id, settings=settings, gateway=gateway
        )
    await session.commit()
    return await _next_attempt(
        session, order_id=order_id, settings=settings, gateway=gateway, domains=domains
    )


class PaymentUnderReview(ServiceError):
    """The order has a payment that did not match it: the coop looks into it first."""

    def __init__(self, order_id: int) -> None:
        super().__init__(409, ErrorCode.PAYMENT_UNDER_REVIEW, order_id=order_id)


def not_payable(status: str) -> ServiceError:
    """The answer to paying an order that is paid or closed."""
    if status == "paid":
        return ServiceError(409, ErrorCode.ORDER_ALREADY_PAID)
    return ServiceError(409, ErrorCode.ORDER_CLOSED, status=status)


async def _next_attempt(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> str:
    """Deactivate the current attempt's checkout, then start the next attempt."""
    done = await deactivate_current_attempt(
        session,
        order_id=order_id,
        settings=settings,
        gateway=gateway,
        domains=domains,
        source="pay",
    )
    if done.paid:
        return return_url(settings, order_id)
    reference = done.reference
    hold_ended = False
    async with rolled_back_on_error(session):
        order = await get_order_or_raise(session, order_id, lock=True)
        if order.status == "paid":
            await session.commit()
            return return_url(settings, order_id)
        if order.status not in OPEN_STATUSES:
            raise not_payable(order.status)
        if order.sumup_reference != reference:
            raise ServiceError(409, ErrorCode.ORDER_PAYMENT_BUSY)
        if hold_spent(order, settings):
            # However often it is paid again, an order holds its claims only so long.
            await close_order(
                session, order=order, status="expired", domains=domains, sumup_status="EXPIRED"
            )
            hold_ended = True
        else:
            _start_next_attempt(order, reference=reference, settings=settings)
        await session.commit()
    if hold_ended:
        log.info(
            "order %s: its hold is over (attempt %s); claims released", order_id, order.attempt
        )
        raise HoldEnded(order_id)
    log.info("order %s: payment attempt %s started", order_id, order.attempt)
    return await _create_hosted_checkout(
        session, order_id=order_id, settings=settings, gateway=gateway
    )


def hold_spent(order: Order, settings: Settings, *, now: datetime | None = None) -> bool:
    """Whether the order may not start another payment attempt: it made the most attempts an
    order may, or too little of its hold is left for a hosted page worth sending anyone to."""
    if order.attempt >= settings.order_max_payment_attempts:
        return True
    return (now or datetime.now(UTC)) + MIN_PAYMENT_WINDOW_LEFT > hold_ends_at(order, settings)


def _start_next_attempt(order: Order, *, reference: str | None, settings: Settings) -> None:
    """Move the locked order on to its next attempt: a new reference, no checkout yet."""
    prefix = reference_prefix(reference, order.id) if reference else None
    if prefix is None:
        prefix = settings.sumup_checkout_prefix
    order.attempt += 1
    order.sumup_reference = checkout_reference(prefix, order.id, order.attempt)
    order.sumup_checkout_id = None
    order.sumup_hosted_url = None
    order.sumup_status = None
    order.status = "pending"
    order.checkout_started_at = datetime.now(UTC)
    # A new hosted page: the reconciler looks at it from the start again.
    order.next_check_at = order.checkout_started_at


@dataclass(frozen=True)
class HostedCheckoutRequest:
    """What SumUp is asked for to open the current attempt's hosted checkout."""

    credentials: SumUpCredentials
    reference: str
    amount: Decimal
    currency: str
    description: str
    valid_until: datetime


async def _create_hosted_checkout(
    session: AsyncSession, *, order_id: int, settings: Settings, gateway: PaymentGateway
) -> str:
    """Create the current attempt's SumUp checkout (retrying with the same reference)."""
    order = await get_order_or_raise(session, order_id)
    assert order.sumup_reference is not None
    request = HostedCheckoutRequest(
        credentials=await credentials_for_order(session, settings=settings, order=order),
        reference=order.sumup_reference,
        amount=order.total_amount,
        currency=order.currency,
        description=order.description or f"Order #{order_id}",
        valid_until=payment_window_ends_at(order, settings),
    )
    await session.commit()
    return await open_hosted_checkout(
        session, order_id=order_id, request=request, settings=settings, gateway=gateway
    )


async def open_hosted_checkout(
    session: AsyncSession,
    *,
    order_id: int,
    request: HostedCheckoutRequest,
    settings: Settings,
    gateway: PaymentGateway,
) -> str:
    """Create the checkout `request` describes and keep it on the order, unless the order
    moved on meanwhile (paid, closed, or another attempt): checked under the order's lock."""
    credentials, reference = request.credentials, request.reference
    checkout = await _create_with_retries(
        gateway,
        order_id=order_id,
        credentials=credentials,
        reference=reference,
        amount=request.amount,
        currency=request.currency,
        description=request.description,
        settings=settings,
        valid_until=request.valid_until,
    )
    async with rolled_back_on_error(session):
        # Stored in one statement when the order is still this attempt's, as it nearly always
        # is: a whole transaction by itself, alone in autocommit when none is open.
        stored = (
            await execute_alone(
                session,
                _STORE_CHECKOUT,
                {
                    "order_id": order_id,
                    "reference": reference,
                    "checkout_id": checkout.id,
                    "hosted_url": checkout.hosted_checkout_url,
                    "sumup_status": checkout.status.value,
                },
            )
        ).first()
        if stored is not None:
            current, (status, stored_url) = True, stored
        else:
            order = await get_order_or_raise(session, order_id, lock=True)
            current = order.status in OPEN_STATUSES and order.sumup_reference == reference
            if current and order.sumup_checkout_id in (None, checkout.id):
                order.sumup_checkout_id = checkout.id
                order.sumup_hosted_url = checkout.hosted_checkout_url
                order.sumup_status = checkout.status.value
            status, stored_url = order.status, order.sumup_hosted_url
        await commit_begun(session)
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
        raise ServiceError(409, ErrorCode.CHECKOUT_REPLACED)
    url = stored_url or checkout.hosted_checkout_url
    if not url:
        raise CheckoutStartFailed(order_id, ErrorCode.CHECKOUT_PAGE_MISSING)
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
                    order_id, ErrorCode.CHECKOUT_START_FAILED, status=502
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
                    order_id, ErrorCode.CHECKOUT_PROVIDER_UNREACHABLE
                ) from error
            raise CheckoutStartFailed(order_id, ErrorCode.CHECKOUT_REFUSED, status=502) from error
    raise AssertionError("unreachable")


async def _existing_checkout(
    gateway: PaymentGateway, *, order_id: int, credentials: SumUpCredentials, reference: str
) -> SumUpCheckout | None:
    """The checkout SumUp holds under our reference (after a 409)."""
    try:
        return await checkout_of_reference(gateway, credentials=credentials, reference=reference)
    except SumUpError as error:
        log.warning("order %s: listing checkout %s failed: %s", order_id, reference, error)
        raise CheckoutStartFailed(order_id, ErrorCode.CHECKOUT_PROVIDER_UNREACHABLE) from error


def _same_payment(checkout: SumUpCheckout, amount: Decimal, currency: str) -> bool:
    return cents(checkout.amount) == cents(amount) and checkout.currency == currency
