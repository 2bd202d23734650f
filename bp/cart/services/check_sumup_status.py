"""Settlement: ask SumUp about an order's checkout and apply the answer, exactly once.

Reached from the webhook, the return page, the order's "check again" button and the
reconciler, possibly all at once on several workers. A webhook is only a hint: the checkout is
fetched from SumUp and checked against the order (reference, amount, currency, merchant) before
anything changes. This module fetches and matches; a paid order is fulfilled by
fulfilment.py, in one transaction with the order row locked, so the second caller finds the
order paid and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.fulfilment import fulfil_payment
from bp.cart.services.merchants import credentials_for_order
from bp.cart.services.order_rows import OrderRow, read_order
from bp.cart.services.order_state import (
    OrderNotFound,
    close_order,
    get_order_or_raise,
    load_order,
    payment_window_open,
)
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from bp.cart.services.payment_mismatch import mark_payment_mismatch
from bp.cart.services.references import belongs_to_order
from bp.cart.services.second_payment import flag_second_payment
from config.settings import Settings
from lib.db import rolled_back_on_error
from lib.metrics import current_metrics
from lib.money import cents
from models import CLOSED_STATUSES, OPEN_STATUSES, OrderStatus
from services.registry import DomainServices
from services.sumup import (
    CheckoutStatus,
    PaymentGateway,
    SumUpCheckout,
    SumUpCredentials,
    SumUpError,
    checkout_of_reference,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settlement:
    """The outcome of one check: the order's status afterwards and what SumUp said."""

    order_id: int
    status: OrderStatus
    sumup_status: str | None = None
    changed: bool = False
    mismatch: bool = False
    # This check found (and flagged) a second payment of the paid order.
    second_payment: bool = False

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"

    @property
    def is_settled(self) -> bool:
        """Nothing more will happen by waiting: paid, or closed."""
        return self.status in ("paid", *CLOSED_STATUSES)


@dataclass(frozen=True)
class _OrderFacts:
    """What the check needs from the order, read before any HTTP call."""

    id: int
    status: OrderStatus
    total_amount: Decimal
    currency: str
    merchant_code: str | None
    attempt: int
    sumup_reference: str | None
    sumup_checkout_id: str | None


async def check_sumup_status(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    checkout_id: str | None = None,
    source: str,
    order: OrderRow | None = None,
) -> Settlement:
    """Fetch the order's checkout from SumUp and settle the order by it (idempotent).

    `checkout_id` is the one a webhook named: it is used only when it is one of this order's
    checkouts. `order` is the order as the caller has just read it (the webhook does), else it
    is read here. Raises NotFound for an unknown order and
    PaymentProviderUnavailable when SumUp cannot be asked. Each check is counted by `source`
    (the path that asked) and outcome.
    """
    try:
        settlement = await _check(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            checkout_id=checkout_id,
            source=source,
            read=order,
        )
    except Exception:
        _count(source, "error")
        raise
    _count(source, settlement_outcome(settlement))
    return settlement


def settlement_outcome(settlement: Settlement) -> str:
    """What a check found, as the settlements metric names it."""
    if settlement.mismatch:
        return "mismatch"
    if settlement.second_payment:
        return "second_payment"
    if settlement.is_paid:
        return "paid" if settlement.changed else "already_paid"
    if settlement.changed:
        return settlement.status  # failed, expired
    return "unchanged"


def _count(source: str, outcome: str) -> None:
    metrics = current_metrics()
    if metrics is not None:
        metrics.settlements.labels(source, outcome).inc()


async def _check(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    checkout_id: str | None,
    source: str,
    read: OrderRow | None,
) -> Settlement:
    # Read alone in autocommit when no transaction is open: one statement, no BEGIN.
    order = read if read is not None else await read_order(session, order_id)
    if order is None:
        raise OrderNotFound()
    facts = _facts(order)
    if facts.status == "paid" and (checkout_id is None or checkout_id == facts.sumup_checkout_id):
        await session.commit()
        return Settlement(order_id, "paid")
    if facts.sumup_reference is None and facts.sumup_checkout_id is None:
        # No payment was ever started for it: there is nothing SumUp could know.
        await session.commit()
        return Settlement(order_id, facts.status)
    credentials = await credentials_for_order(session, settings=settings, order=order)
    # No transaction stays open while SumUp is asked.
    await session.commit()

    checkout = await _find_checkout(
        session, facts=facts, credentials=credentials, gateway=gateway, checkout_id=checkout_id
    )
    if checkout is None:
        return Settlement(order_id, facts.status)
    problems = _mismatches(facts, checkout)
    if problems:
        await _refuse_mismatch(
            session, facts=facts, checkout=checkout, problems=problems, source=source
        )
        return Settlement(order_id, facts.status, checkout.status.value, mismatch=True)
    if facts.status == "paid":
        second = False
        if checkout.status == CheckoutStatus.PAID and checkout.id != facts.sumup_checkout_id:
            second = await flag_second_payment(
                session, order_id=order_id, checkout=checkout, source=source
            )
        return Settlement(order_id, "paid", checkout.status.value, second_payment=second)

    if checkout.status == CheckoutStatus.PAID:
        changed = await fulfil_payment(
            session,
            order_id=order_id,
            checkout=checkout,
            settings=settings,
            domains=domains,
            source=source,
        )
        return Settlement(order_id, "paid", CheckoutStatus.PAID.value, changed=changed)
    current = checkout.checkout_reference == facts.sumup_reference
    if checkout.status == CheckoutStatus.FAILED and current:
        return await _settle_failed(session, order_id=order_id, checkout=checkout)
    if checkout.status == CheckoutStatus.EXPIRED and current:
        return await _settle_expired(
            session, order_id=order_id, checkout=checkout, settings=settings, domains=domains
        )
    return Settlement(order_id, facts.status, checkout.status.value)


def _facts(order: OrderRow) -> _OrderFacts:
    return _OrderFacts(
        id=order.id,
        status=order.status,
        total_amount=order.total_amount,
        currency=order.currency,
        merchant_code=order.merchant_code,
        attempt=order.attempt,
        sumup_reference=order.sumup_reference,
        sumup_checkout_id=order.sumup_checkout_id,
    )


async def _find_checkout(
    session: AsyncSession,
    *,
    facts: _OrderFacts,
    credentials: SumUpCredentials,
    gateway: PaymentGateway,
    checkout_id: str | None,
) -> SumUpCheckout | None:
    """The webhook's checkout if it is this order's, else the order's current one, or None."""
    if checkout_id is not None and checkout_id != facts.sumup_checkout_id:
        named = await _get(gateway, credentials, checkout_id)
        if named is not None and _belongs(facts, named):
            return named
        log.warning(
            "order %s: checkout %s named by a webhook is not one of its checkouts; "
            "checking the order's own",
            facts.id,
            checkout_id,
        )
    if facts.sumup_checkout_id is not None:
        current = await _get(gateway, credentials, facts.sumup_checkout_id)
        if current is None:
            log.warning(
                "order %s: SumUp does not know its checkout %s", facts.id, facts.sumup_checkout_id
            )
        return current
    if facts.sumup_reference is None:
        return None
    # The create call may have succeeded without us hearing the answer: look it up.
    try:
        checkout = await checkout_of_reference(
            gateway, credentials=credentials, reference=facts.sumup_reference
        )
    except SumUpError as error:
        log.warning("order %s: listing checkouts failed: %s", facts.id, error)
        raise PaymentProviderUnavailable() from error
    if checkout is not None:
        await _record_found_checkout(session, order_id=facts.id, checkout=checkout)
    return checkout


async def _get(
    gateway: PaymentGateway, credentials: SumUpCredentials, checkout_id: str
) -> SumUpCheckout | None:
    """One checkout from SumUp; None when SumUp does not know it (or it is another merchant's)."""
    try:
        return await gateway.get_checkout(credentials=credentials, checkout_id=checkout_id)
    except SumUpError as error:
        if error.is_not_found:
            return None
        log.warning("reading SumUp checkout %s failed: %s", checkout_id, error)
        raise PaymentProviderUnavailable() from error


async def _record_found_checkout(
    session: AsyncSession, *, order_id: int, checkout: SumUpCheckout
) -> None:
    """Record a checkout found by its reference on the order that has none yet."""
    order = await load_order(session, order_id, lock=True)
    if (
        order is not None
        and order.sumup_checkout_id is None
        and order.sumup_reference == checkout.checkout_reference
    ):
        order.sumup_checkout_id = checkout.id
        order.sumup_hosted_url = checkout.hosted_checkout_url
        order.sumup_status = checkout.status.value
    await session.commit()


def _belongs(facts: _OrderFacts, checkout: SumUpCheckout) -> bool:
    return belongs_to_order(
        checkout.checkout_reference,
        order_id=facts.id,
        current_reference=facts.sumup_reference,
        attempt=facts.attempt,
    )


def _mismatches(facts: _OrderFacts, checkout: SumUpCheckout) -> list[str]:
    """How the checkout differs from this order (reference, amount, currency, merchant)."""
    problems = []
    if not _belongs(facts, checkout):
        problems.append(f"reference {checkout.checkout_reference!r} is not this order's")
    if cents(checkout.amount) != cents(facts.total_amount):
        problems.append(f"amount {checkout.amount} != order total {facts.total_amount}")
    if checkout.currency != facts.currency:
        problems.append(f"currency {checkout.currency} != order currency {facts.currency}")
    if facts.merchant_code and checkout.merchant_code != facts.merchant_code:
        problems.append(
            f"merchant {checkout.merchant_code} != order merchant {facts.merchant_code}"
        )
    return problems


async def _refuse_mismatch(
    session: AsyncSession,
    *,
    facts: _OrderFacts,
    checkout: SumUpCheckout,
    problems: list[str],
    source: str,
) -> None:
    """A checkout that is not exactly this order's changes nothing; one that took money marks
    the order for the coop (logged CRITICAL the first time)."""
    reason = (
        f"SumUp checkout {checkout.id} ({checkout.status.value}) does not match the order: "
        + "; ".join(problems)
    )
    if checkout.status == CheckoutStatus.PAID:
        await mark_payment_mismatch(session, order_id=facts.id, reason=reason, source=source)
    else:
        log.warning("order %s (%s): %s; ignored", facts.id, source, reason)


async def _settle_failed(
    session: AsyncSession, *, order_id: int, checkout: SumUpCheckout
) -> Settlement:
    """A failed attempt: the order shows it, and may still be paid (its claims stay)."""
    order = await get_order_or_raise(session, order_id, lock=True)
    changed = False
    if order.status == "pending" and order.sumup_reference == checkout.checkout_reference:
        order.status = "failed"
        order.sumup_status = CheckoutStatus.FAILED.value
        changed = True
    status = order.status
    await session.commit()
    if changed:
        log.info("order %s: payment attempt failed at SumUp", order_id)
    return Settlement(order_id, status, CheckoutStatus.FAILED.value, changed=changed)


async def _settle_expired(
    session: AsyncSession,
    *,
    order_id: int,
    checkout: SumUpCheckout,
    settings: Settings,
    domains: DomainServices,
) -> Settlement:
    """SumUp expired the current attempt: once its session is over the order expires too.

    Within the session it was one of our own deactivations (a new attempt or a replacing
    checkout under way), and whoever deactivated it finishes the job.
    """
    async with rolled_back_on_error(session):
        order = await get_order_or_raise(session, order_id, lock=True)
        changed = False
        if order.status in OPEN_STATUSES and order.sumup_reference == checkout.checkout_reference:
            order.sumup_status = CheckoutStatus.EXPIRED.value
            if not payment_window_open(order, settings):
                await close_order(session, order=order, status="expired", domains=domains)
                changed = True
        status = order.status
        await session.commit()
    return Settlement(order_id, status, CheckoutStatus.EXPIRED.value, changed=changed)
