"""Refunds through SumUp, recorded on the order; one per order.

The refund is claimed on the order (refunded_amount, refunded_at) in a committed transaction
before SumUp is called, so a second refund (a double click, another operator) finds it claimed
and never reaches SumUp; a SumUp failure takes the claim back. No transaction is held open
while SumUp answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.merchants import credentials_for_order
from bp.cart.services.orders import load_order, undelivered_items
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from config.settings import Settings
from lib.errors import BadRequest, NotFound, ServiceError
from lib.json_body import loads_or_none
from lib.localtime import format_local_date
from lib.money import cents, format_money, total
from models import Order
from services.registry import DomainServices
from services.sumup import PaymentGateway, SumUpError

# Numeric(12, 2)'s ceiling; checked before quantize, which fails on enormous exponents.
MAX_AMOUNT = Decimal("10000000000")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundResult:
    """A refund SumUp accepted, as recorded on the order."""

    order_id: int
    amount: Decimal
    currency: str
    refunded_at: datetime


def parse_refund_amount(value: object) -> Decimal | None:
    """An amount from a request or the command line ("12.50"); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRequest('The amount must be a string such as "12.50".', code="INVALID_AMOUNT")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadRequest(
            'The amount must be a number such as "12.50".', code="INVALID_AMOUNT"
        ) from None
    out_of_range = not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT
    if out_of_range or amount != cents(amount):
        raise BadRequest(
            "The amount must be more than zero, with at most two decimal places.",
            code="INVALID_AMOUNT",
        )
    return amount


def refund_request_amount(raw: str | bytes) -> Decimal | None:
    """The amount a refund request asks for: an empty body, or a JSON object with `amount`."""
    body = loads_or_none(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object, e.g. {"amount": "12.50"}.', code="INVALID_JSON")
    return parse_refund_amount(body.get("amount"))


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
    """Refund a paid order through SumUp (default: the value it could not deliver); commits."""
    try:
        order = await load_order(session, order_id, lock=True, with_items=True)
        if order is None:
            raise NotFound(f"There is no order #{order_id}.", code="ORDER_NOT_FOUND")
        _check_refundable(order, settings)
        if amount is None:
            amount = await refund_due(session, order=order, domains=domains)
        if amount > order.total_amount:
            raise BadRequest(
                f"Order #{order_id} was paid "
                f"{format_money(order.total_amount, order.currency, locale=settings.locale)};"
                " a refund cannot be more than that.",
                code="INVALID_AMOUNT",
            )
        credentials = await credentials_for_order(session, settings=settings, order=order)
        transaction_id = order.sumup_transaction_id
        assert transaction_id is not None
        claimed_at = datetime.now(UTC)
        order.refunded_amount = amount
        order.refunded_at = claimed_at
        currency = order.currency
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    log.info(
        "order %s: refunding %s %s (transaction %s)", order_id, amount, currency, transaction_id
    )

    try:
        await gateway.refund(credentials=credentials, transaction_id=transaction_id, amount=amount)
    except SumUpError as error:
        await _release_claim(session, order_id=order_id, claimed_at=claimed_at)
        log.error("order %s: SumUp refused the refund: %s", order_id, error)
        if error.is_retryable:
            raise PaymentProviderUnavailable() from error
        raise ServiceError(
            409 if error.is_conflict or error.is_not_found else 502,
            "REFUND_REFUSED",
            f"SumUp refused the refund of order #{order_id}: {error.message or error.code}.",
        ) from error
    except BaseException:
        await _release_claim(session, order_id=order_id, claimed_at=claimed_at)
        raise

    try:
        order = await load_order(session, order_id, lock=True)
        assert order is not None
        order.needs_refund = False
        refunded_at = order.refunded_at or claimed_at
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    log.info("order %s: refunded %s %s", order_id, amount, currency)
    return RefundResult(
        order_id=order_id, amount=amount, currency=currency, refunded_at=refunded_at
    )


def _check_refundable(order: Order, settings: Settings) -> None:
    """Only a paid order with a SumUp transaction, not refunded yet."""
    if order.refunded_at is not None:
        day = format_local_date(
            order.refunded_at, zone_name=settings.time_zone, locale=settings.locale
        )
        raise ServiceError(
            409,
            "ALREADY_REFUNDED",
            f"Order #{order.id} was already refunded "
            f"({format_money(order.refunded_amount, order.currency, locale=settings.locale)} "
            f"on {day}).",
        )
    if order.status != "paid":
        raise ServiceError(
            409,
            "ORDER_NOT_PAID",
            f"Order #{order.id} is {order.status}; only a paid order can be refunded.",
        )
    if not order.sumup_transaction_id:
        raise ServiceError(
            409,
            "NO_TRANSACTION",
            f"Order #{order.id} has no SumUp transaction id to refund; "
            "refund it in SumUp's dashboard.",
        )


async def _release_claim(session: AsyncSession, *, order_id: int, claimed_at: datetime) -> None:
    """Take back a refund claim after SumUp did not refund."""
    try:
        order = await load_order(session, order_id, lock=True)
        if order is not None and order.refunded_at == claimed_at:
            order.refunded_amount = None
            order.refunded_at = None
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
