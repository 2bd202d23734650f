"""SumUp's webhook: a hint that a checkout changed, read here and settled by asking SumUp.

The body is never trusted: it only names a checkout, which `check_sumup_status` fetches from
SumUp and checks against the order. Not ours (another event, a malformed id) is acknowledged and
ignored; only our database or SumUp being unreachable answers 503, so that SumUp delivers again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, NotFound, unavailable
from lib.ids import is_id
from lib.json_body import loads_or_none
from services.registry import DomainServices
from services.sumup import PaymentGateway
from services.sumup.ids import is_checkout_id

# SumUp's classic webhook, and the newer event envelope (reference §5a, §5b).
STATUS_CHANGED = "CHECKOUT_STATUS_CHANGED"
CHECKOUT_EVENT_PREFIXES = ("checkout.", "checkouts.")
# More digits than a BIGINT has; longer text is refused before int() sees it.
MAX_ORDER_DIGITS = 19

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookHint:
    """What a webhook says: this order's checkout may have changed."""

    order_id: int
    checkout_id: str


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
) -> None:
    """Settle the order by what SumUp says now; an unknown order is acknowledged and ignored.

    Raises a 503 ServiceError when SumUp or the database could not be reached.
    """
    order_id, checkout_id = hint.order_id, hint.checkout_id
    try:
        settlement = await check_sumup_status(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            checkout_id=checkout_id,
            source="webhook",
        )
    except NotFound:
        log.warning("webhook for unknown order %s (checkout %s) ignored", order_id, checkout_id)
        return
    except (DBAPIError, PoolTimeoutError, OSError) as error:
        log.error("webhook for order %s: database unreachable: %s", order_id, error)
        raise unavailable(ErrorCode.DATABASE_UNAVAILABLE) from error
    log.info(
        "webhook for order %s (checkout %s): %s%s",
        order_id,
        checkout_id,
        settlement.status,
        " (changed)" if settlement.changed else "",
    )


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
