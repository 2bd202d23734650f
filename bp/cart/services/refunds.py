"""Refunds through SumUp, recorded on the order; one per order, never made twice.

The refund is claimed on the order (refunded_amount, refund_requested_at) in a committed
transaction before SumUp is called, so a second refund (a double click, another operator)
finds it claimed and never reaches SumUp. No transaction is held open while SumUp answers.

SumUp's answer can be lost or say nothing (a timeout, a dropped connection, a 5xx: SumUp may
make the refund after answering 5xx, and its transaction may show it only later). Then SumUp's
transaction is asked whether the refund was made: made, the order is refunded; otherwise the
claim stays, as "pending confirmation". The next `refund_order` (an operator's retry,
`manage.py refund`) or the reconciler asks SumUp again before anything is sent, once the claim
is older than the settle time: the longest a refund call of ours may run (it is cut off then)
and a margin for SumUp's transaction to show it. Only then does a transaction without the
refund take the claim back; only a refusal from SumUp (4xx) takes it back at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.merchants import credentials_for_order
from bp.cart.services.order_events import ORDER_REFUNDED, emit_order_event
from bp.cart.services.order_state import get_order_or_raise, load_order, undelivered_items
from config.settings import Settings
from lib.db import rolled_back_on_error
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, NotFound, ServiceError
from lib.localtime import format_local_date
from lib.metrics import current_metrics
from lib.money import cents, format_money, total
from models import Order
from services.registry import DomainServices
from services.runtime import SUMUP_CONNECT_TIMEOUT_SECONDS
from services.sumup import PaymentGateway, SumUpCredentials, SumUpError

# Numeric(12, 2)'s ceiling; checked before quantize, which fails on enormous exponents.
MAX_AMOUNT = Decimal("10000000000")
# A refund's amount as text: more than zero, at most ten digits before the point (below
# MAX_AMOUNT) and two after. The internal API's document states the same pattern.
REFUND_AMOUNT_PATTERN = r"^(?!0*(\.0{1,2})?$)0*[0-9]{1,10}(\.[0-9]{1,2})?$"
REFUND_AMOUNT = re.compile(REFUND_AMOUNT_PATTERN)
# A claim younger than the settle time may belong to a refund still on its way to SumUp (or
# being made there): it is left alone. Older, SumUp's transaction tells whether it was made.
# The settle time is at least this, and longer when the SumUp timeout allows longer calls.
REFUND_SETTLE = timedelta(minutes=2)
# After a refund call ends, what SumUp's transaction may take to show the refund.
TRANSACTION_CATCH_UP = timedelta(minutes=1)
# A refund event dated this much before its claim still counts as ours (clocks differ).
CLOCK_TOLERANCE = timedelta(minutes=5)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundResult:
    """A refund SumUp made, as recorded on the order."""

    order_id: int
    amount: Decimal
    currency: str
    refunded_at: datetime


@dataclass(frozen=True)
class _Claim:
    """A refund claimed on an order: what is (or was) asked of SumUp."""

    order_id: int
    transaction_id: str
    amount: Decimal
    currency: str
    claimed_at: datetime
    credentials: SumUpCredentials


def refund_call_limit(settings: Settings) -> float:
    """Seconds a refund call may run before it is cut off: its connect and its answer."""
    return SUMUP_CONNECT_TIMEOUT_SECONDS + settings.sumup_timeout_seconds


def refund_settle_time(settings: Settings) -> timedelta:
    """How old a claim must be before SumUp's transaction alone tells whether it was made."""
    call_over = timedelta(seconds=refund_call_limit(settings)) + TRANSACTION_CATCH_UP
    return max(REFUND_SETTLE, call_over)


class RefundInProgress(ServiceError):
    """Another refund of the order was sent moments ago and SumUp has not confirmed it yet."""

    def __init__(self, order_id: int, claimed_at: datetime) -> None:
        super().__init__(
            409, ErrorCode.REFUND_IN_PROGRESS, order_id=order_id, started=f"{claimed_at:%H:%M:%S}"
        )


class RefundUnconfirmed(ServiceError):
    """The refund was sent, and SumUp has not said whether it was made."""

    def __init__(self, order_id: int) -> None:
        super().__init__(503, ErrorCode.REFUND_UNCONFIRMED, order_id=order_id)


def parse_refund_amount(value: object) -> Decimal | None:
    """An amount from a request or the command line ("12.50", or a whole number); None when
    absent. Exactly what the internal API's document says (REFUND_AMOUNT_PATTERN, or an
    integer from 1 below MAX_AMOUNT): ASCII digits, at most two places, more than zero."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON's 12.0 is the integer 12
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value < MAX_AMOUNT:
            raise BadRequest(ErrorCode.INVALID_AMOUNT)
        return Decimal(value)
    if not isinstance(value, str) or REFUND_AMOUNT.fullmatch(value) is None:
        raise BadRequest(ErrorCode.INVALID_AMOUNT)
    return Decimal(value)


async def refund_due(session: AsyncSession, *, order: Order, domains: DomainServices) -> Decimal:
    """What a paid order owes back by default: what it could not deliver, else everything."""
    if order.needs_refund:
        missing = await undelivered_items(
            session, order_id=order.id, items=order.items, domains=domains
        )
        owed = total(item.line_total for item in missing)
        if owed > 0:
            return owed
    return cents(order.total_amount)


async def refund_order(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    amount: Decimal | None = None,
) -> RefundResult:
    """Refund a paid order through SumUp (default: the value it could not deliver); commits.

    A refund of the order left pending confirmation is settled first, by asking SumUp.
    """
    claim = await _claim(
        session,
        order_id=order_id,
        settings=settings,
        gateway=gateway,
        domains=domains,
        amount=amount,
    )
    if isinstance(claim, RefundResult):
        return claim
    log.info(
        "order %s: refunding %s %s (transaction %s)",
        order_id,
        claim.amount,
        claim.currency,
        claim.transaction_id,
    )
    # Only SumUp's own answers are handled here: anything else (a cancelled request among them)
    # leaves the outcome unknown, and the claim stays for the next attempt to settle. The call
    # is cut off at its limit, so that none is still running once the claim may be settled.
    try:
        async with asyncio.timeout(refund_call_limit(settings)):
            await gateway.refund(
                credentials=claim.credentials,
                transaction_id=claim.transaction_id,
                amount=claim.amount,
            )
    except SumUpError as error:
        if not error.is_retryable:
            await _release(session, claim)
            log.error("order %s: SumUp refused the refund: %s", order_id, error)
            raise ServiceError(
                409 if error.is_conflict or error.is_not_found else 502,
                ErrorCode.REFUND_REFUSED,
                order_id=order_id,
                reason=error.message or error.code,
            ) from error
        return await _settle_unanswered(session, claim, settings=settings, gateway=gateway)
    except TimeoutError:
        return await _settle_unanswered(session, claim, settings=settings, gateway=gateway)
    return await _record_refunded(session, claim, settings=settings)


async def _settle_unanswered(
    session: AsyncSession, claim: _Claim, *, settings: Settings, gateway: PaymentGateway
) -> RefundResult:
    """A refund SumUp did not answer with a success or a refusal (a timeout, a lost answer, a
    5xx): recorded if SumUp's transaction shows it; otherwise the claim stays.

    A 5xx proves nothing either way: SumUp may make the refund after answering it, and its
    transaction may show the refund later still, so a refund not shown yet is not taken back.
    """
    log.warning("order %s: the refund's answer said nothing; asking SumUp", claim.order_id)
    if await _made_at_sumup(gateway, claim):
        return await _record_refunded(session, claim, settings=settings)
    raise RefundUnconfirmed(claim.order_id)


async def resolve_pending_refund(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    now: datetime | None = None,
) -> str | None:
    """Settle a refund left pending confirmation, once it is old enough, by asking SumUp.

    Answers "refunded" (SumUp made it: recorded), "released" (SumUp did not: the order owes
    it again) or None (nothing to settle yet, or SumUp could not be asked).
    """
    async with rolled_back_on_error(session):
        order = await load_order(session, order_id, lock=True)
        claim = None
        if order is not None and _pending(order) and not _young(order, settings, now):
            claim = await _claim_of(session, settings=settings, order=order)
        await session.commit()
    if claim is None:
        return None
    made = await _made_at_sumup(gateway, claim)
    if made is None:
        return None
    if made:
        await _record_refunded(session, claim, settings=settings)
        return "refunded"
    await _release(session, claim)
    log.warning(
        "order %s: the refund of %s %s claimed at %s was not made at SumUp; it can be made "
        "again (`manage.py refund %s`)",
        order_id,
        claim.amount,
        claim.currency,
        f"{claim.claimed_at:%Y-%m-%d %H:%M:%S}",
        order_id,
    )
    return "released"


async def _claim(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    amount: Decimal | None,
) -> _Claim | RefundResult:
    """Claim the refund on the order (committed), or the result of one found made already."""
    settled_before = False
    while True:
        async with rolled_back_on_error(session):
            order = await load_order(session, order_id, lock=True, with_items=True)
            if order is None:
                raise NotFound(ErrorCode.UNKNOWN_ORDER, order_id=order_id)
            if order.refunded_at is not None:
                raise _already_refunded(order, settings)
            if _pending(order):
                if settled_before or _young(order, settings):
                    raise RefundInProgress(order_id, order.refund_requested_at or _now())
                pending = await _claim_of(session, settings=settings, order=order)
                await session.commit()
            else:
                claim = await _new_claim(
                    session, order=order, settings=settings, domains=domains, amount=amount
                )
                await session.commit()
                return claim
        # An old claim: SumUp tells whether it was made before anything is sent again.
        made = await _made_at_sumup(gateway, pending)
        if made is None:
            raise RefundUnconfirmed(order_id)
        if made:
            return await _record_refunded(session, pending, settings=settings)
        await _release(session, pending)
        settled_before = True


async def _new_claim(
    session: AsyncSession,
    *,
    order: Order,
    settings: Settings,
    domains: DomainServices,
    amount: Decimal | None,
) -> _Claim:
    """Check the order can be refunded `amount` and claim it (the caller commits)."""
    _check_refundable(order)
    if amount is None:
        amount = await refund_due(session, order=order, domains=domains)
    if amount > order.total_amount:
        raise BadRequest(
            ErrorCode.AMOUNT_ABOVE_PAID,
            order_id=order.id,
            paid=format_money(order.total_amount, order.currency, locale=settings.locale),
        )
    order.refunded_amount = amount
    order.refund_requested_at = _now()
    return await _claim_of(session, settings=settings, order=order)


async def _claim_of(session: AsyncSession, *, settings: Settings, order: Order) -> _Claim:
    assert order.sumup_transaction_id is not None
    assert order.refunded_amount is not None and order.refund_requested_at is not None
    return _Claim(
        order_id=order.id,
        transaction_id=order.sumup_transaction_id,
        amount=order.refunded_amount,
        currency=order.currency,
        claimed_at=order.refund_requested_at,
        credentials=await credentials_for_order(session, settings=settings, order=order),
    )


def _pending(order: Order) -> bool:
    """A refund claimed and not (yet) confirmed."""
    return order.refund_requested_at is not None and order.refunded_at is None


def _young(order: Order, settings: Settings, now: datetime | None = None) -> bool:
    assert order.refund_requested_at is not None
    return (now or _now()) - order.refund_requested_at < refund_settle_time(settings)


def _now() -> datetime:
    return datetime.now(UTC)


async def _made_at_sumup(gateway: PaymentGateway, claim: _Claim) -> bool | None:
    """Whether SumUp's transaction shows this claim's refund; None when SumUp cannot say.

    Ours is a refund of exactly the claimed amount, dated after the claim (within the
    clocks' tolerance), that did not fail: one per order, so nothing else looks like it.
    """
    try:
        transaction = await gateway.get_transaction(
            credentials=claim.credentials, transaction_id=claim.transaction_id
        )
    except SumUpError as error:
        log.warning("order %s: could not ask SumUp about its refund: %s", claim.order_id, error)
        return None
    earliest = claim.claimed_at - CLOCK_TOLERANCE
    for event in transaction.refunds:
        when = event.timestamp
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if (
            not event.is_failed
            and event.amount is not None
            and cents(event.amount) == cents(claim.amount)
            and (when is None or when >= earliest)
        ):
            return True
    return False


async def _record_refunded(
    session: AsyncSession, claim: _Claim, *, settings: Settings
) -> RefundResult:
    """Record the claim's refund as made, with its `rose:OrderRefunded` event (once: a second
    recording changes nothing)."""
    recorded = False
    async with rolled_back_on_error(session):
        order = await get_order_or_raise(session, claim.order_id, lock=True, with_items=True)
        if order.refunded_at is None and order.refund_requested_at == claim.claimed_at:
            order.refunded_at = _now()
            order.refunded_amount = claim.amount
            order.needs_refund = False
            recorded = True
            log.info("order %s: refunded %s %s", claim.order_id, claim.amount, claim.currency)
            # The shopper's "refund made" mail is sent from this event.
            await emit_order_event(
                session,
                settings=settings,
                order=order,
                items=list(order.items),
                event_type=ORDER_REFUNDED,
                activity_type="rose:OrderRefunded",
            )
        refunded_at = order.refunded_at or _now()
        amount = order.refunded_amount or claim.amount
        await session.commit()
    metrics = current_metrics()
    if recorded and metrics is not None:
        metrics.refunds_made.inc()
    return RefundResult(
        order_id=claim.order_id, amount=amount, currency=claim.currency, refunded_at=refunded_at
    )


async def _release(session: AsyncSession, claim: _Claim) -> None:
    """Take back a claim whose refund SumUp did not make (the order owes it again)."""
    async with rolled_back_on_error(session):
        order = await load_order(session, claim.order_id, lock=True)
        if (
            order is not None
            and order.refunded_at is None
            and order.refund_requested_at == claim.claimed_at
        ):
            order.refunded_amount = None
            order.refund_requested_at = None
        await session.commit()


def _already_refunded(order: Order, settings: Settings) -> ServiceError:
    assert order.refunded_at is not None
    day = format_local_date(order.refunded_at, zone_name=settings.time_zone, locale=settings.locale)
    return ServiceError(
        409,
        ErrorCode.ALREADY_REFUNDED,
        order_id=order.id,
        amount=format_money(order.refunded_amount, order.currency, locale=settings.locale),
        day=day,
    )


def _check_refundable(order: Order) -> None:
    """Only a paid order with a SumUp transaction."""
    if order.status != "paid":
        raise ServiceError(409, ErrorCode.ORDER_NOT_PAID, order_id=order.id, status=order.status)
    if not order.sumup_transaction_id:
        raise ServiceError(409, ErrorCode.NO_TRANSACTION, order_id=order.id)
