"""SumUp's webhook: a hint that a checkout changed, read here and settled by asking SumUp.

The body is never trusted: it only names a checkout, which `check_sumup_status` fetches from
SumUp and checks against the order. Not ours (another event, a malformed id) is acknowledged and
ignored; only our database or SumUp being unreachable answers 503, so that SumUp delivers again.

Anyone can post a webhook, and each question to SumUp is made with the merchant's key, so
SumUp is asked only what can still change: about the named checkout when it is one of the
order's own (`order_checkouts`) young enough to be paid still, else about the order's own
checkout while the order is open, else nothing. Only a webhook that asks spends the order's
allowance (RATE_LIMIT_WEBHOOK_PER_ORDER): junk cannot use it up before SumUp's delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_rows import ORDER_SELECT, OrderRow, order_from_rows
from config.settings import Settings
from lib.db import Query, execute_alone
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, NotFound, database_unavailable, unavailable
from lib.ids import is_id
from lib.json_body import loads_or_none
from models import OPEN_STATUSES, OrderCheckout
from services.registry import DomainServices
from services.sumup import PaymentGateway
from services.sumup.ids import is_checkout_id

# SumUp's classic webhook, and the newer event envelope (reference §5a, §5b).
STATUS_CHANGED = "CHECKOUT_STATUS_CHANGED"
CHECKOUT_EVENT_PREFIXES = ("checkout.", "checkouts.")
# More digits than a BIGINT has; longer text is refused before int() sees it.
MAX_ORDER_DIGITS = 19

log = logging.getLogger(__name__)

_ORDER_CHECKOUTS = OrderCheckout.__table__
# The order (as order_rows reads it) and when the named checkout was recorded as one of its
# own (NULL when it is not): built once.
ORDER_FOR_WEBHOOK = Query(
    ORDER_SELECT.add_columns(
        select(_ORDER_CHECKOUTS.c.recorded_at)
        .where(
            _ORDER_CHECKOUTS.c.order_id == bindparam("order_id", type_=BigInteger),
            _ORDER_CHECKOUTS.c.checkout_id == bindparam("checkout_id", type_=String),
        )
        .scalar_subquery()
    )
)


@dataclass(frozen=True, slots=True)
class WebhookHint:
    """What a webhook says: this order's checkout may have changed."""

    order_id: int
    checkout_id: str


@dataclass(frozen=True, slots=True)
class _Question:
    """What SumUp is to be asked: about this checkout, or (None) about the order's own; and
    the order, as read for the question (settlement goes on from it, in the same transaction)."""

    checkout_id: str | None
    order: OrderRow
    # False when settlement can answer from the order alone (it asks SumUp nothing).
    asks_sumup: bool = True


def read_webhook(raw: str | bytes, *, order_ref: str) -> WebhookHint | None:
    """The hint in a webhook body for the order in its URL; None when it is not ours.

    Raises BadRequest for a body that is not a JSON object.
    """
    body = loads_or_none(raw)
    if not isinstance(body, dict):
        raise BadRequest(ErrorCode.INVALID_WEBHOOK)
    checkout_id = _checkout_id_of(body)
    order_id = int(order_ref) if order_ref.isdecimal() and len(order_ref) <= MAX_ORDER_DIGITS else 0
    if checkout_id is None or not is_id(order_id):
        log.info("webhook for %r ignored: %s", order_ref, _describe(body))
        return None
    return WebhookHint(order_id=order_id, checkout_id=checkout_id)


async def settle_from_webhook(
    session: AsyncSession,
    *,
    hint: WebhookHint,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    spend_allowance: Callable[[int], Awaitable[None]],
) -> None:
    """Settle the order by what SumUp says now, when it can still change; anything else is
    acknowledged and ignored. `spend_allowance(order_id)` counts a question to SumUp.

    Raises a 503 ServiceError when SumUp or the database could not be reached.
    """
    order_id, checkout_id = hint.order_id, hint.checkout_id
    try:
        question = await _question(session, hint=hint, settings=settings)
        if question is None:
            return
        if question.asks_sumup:
            await spend_allowance(order_id)
        settlement = await check_sumup_status(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            checkout_id=question.checkout_id,
            source="webhook",
            order=question.order,
        )
    except NotFound:
        log.warning("webhook for unknown order %s (checkout %s) ignored", order_id, checkout_id)
        return
    except Exception as error:
        # A statement alone on the driver raises asyncpg's own errors, not SQLAlchemy's.
        if not isinstance(
            error, (DBAPIError, PoolTimeoutError, OSError)
        ) and not database_unavailable(error):
            raise
        log.error("webhook for order %s: database unreachable: %s", order_id, error)
        raise unavailable(ErrorCode.DATABASE_UNAVAILABLE) from error
    log.info(
        "webhook for order %s (checkout %s): %s%s",
        order_id,
        checkout_id,
        settlement.status,
        " (changed)" if settlement.changed else "",
    )


async def _question(
    session: AsyncSession, *, hint: WebhookHint, settings: Settings
) -> _Question | None:
    """What to ask SumUp for this webhook, or None when nothing it says could change the order."""
    # Not locked: settlement locks the order when it changes it. Read alone in autocommit when
    # no transaction is open (one statement, no BEGIN).
    rows = await execute_alone(
        session, ORDER_FOR_WEBHOOK, {"order_id": hint.order_id, "checkout_id": hint.checkout_id}
    )
    if not rows:
        await session.commit()
        log.warning(
            "webhook for unknown order %s (checkout %s) ignored", hint.order_id, hint.checkout_id
        )
        return None
    row = rows.one()
    order = order_from_rows([row[:-1]])
    assert order is not None
    recorded_at = row[-1]
    status, reference, current = order.status, order.sumup_reference, order.sumup_checkout_id
    if status == "paid" and hint.checkout_id == current:
        # Paid by this very checkout: settlement says so without asking SumUp.
        return _Question(checkout_id=current, order=order, asks_sumup=False)
    # A hosted checkout can be paid until its session ends; after that it changes no more.
    lifetime = timedelta(minutes=settings.payment_window_minutes + settings.checkout_grace_minutes)
    if recorded_at is not None and recorded_at > datetime.now(UTC) - lifetime:
        return _Question(checkout_id=hint.checkout_id, order=order)
    if status in OPEN_STATUSES and (reference is not None or current is not None):
        if recorded_at is None:
            log.info(
                "webhook for order %s names checkout %s, not one of its own: its own is checked",
                hint.order_id,
                hint.checkout_id,
            )
        return _Question(checkout_id=None, order=order)
    await session.commit()
    log.info(
        "webhook for order %s (%s, checkout %s) ignored: nothing SumUp says can change it",
        hint.order_id,
        status,
        hint.checkout_id,
    )
    return None


def _checkout_id_of(body: dict[str, Any]) -> str | None:
    """The checkout a webhook names, or None when the event is not a checkout change."""
    if "event_type" in body:
        candidate = body.get("id") if body.get("event_type") == STATUS_CHANGED else None
    else:
        event_type, subject = body.get("type"), body.get("object")
        is_checkout = isinstance(event_type, str) and event_type.startswith(CHECKOUT_EVENT_PREFIXES)
        candidate = subject.get("id") if is_checkout and isinstance(subject, dict) else None
    # Only SumUp's own id format: the id becomes part of a URL path sent with the merchant's
    # key, where "." or ".." would name another resource.
    return candidate if is_checkout_id(candidate) else None


def _describe(body: dict[str, Any]) -> str:
    """A short, safe description of a webhook body for the log."""
    return str({key: body[key] for key in ("event_type", "type", "id") if key in body})[:200]
