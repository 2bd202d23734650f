"""What the staff do to orders, outbox events and mail, through the same service functions
as `manage.py` and the internal API, each recorded in the audit with its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.cancel_order import Cancellation, cancel_waiting_order
from bp.cart.services.payment_mismatch import resolve_payment_mismatch
from bp.cart.services.refunds import RefundResult, parse_refund_amount, refund_order
from bp.order.services.dead_mail import retry_dead_mail
from bp.order.services.resend_mail import resend_confirmation
from bp.staff.services.audit import Act, audited
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, ServiceError
from lib.ids import is_id
from lib.money import format_money
from models import Order, OutboxEvent, SentMessage
from services.events import retry_dead_letters
from services.registry import DomainServices
from services.sumup import PaymentGateway

MAX_REASON = 500


@dataclass(frozen=True)
class RefundForm:
    """A staff refund as the form sends it: an amount (blank: the whole order) and why."""

    amount: Decimal | None
    reason: str


def parse_refund_form(*, amount: str, reason: str) -> RefundForm:
    """Check the form: an amount such as 12.50 or none, and a reason a person wrote."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadRequest(ErrorCode.REASON_REQUIRED)
    if len(reason) > MAX_REASON:
        raise BadRequest(ErrorCode.REASON_TOO_LONG, maximum=MAX_REASON)
    return RefundForm(amount=parse_refund_amount(amount.strip()), reason=reason)


async def staff_refund(
    session: AsyncSession,
    *,
    staff_user_id: int,
    order_id: int,
    form: RefundForm,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> RefundResult:
    """Refund an order (all of it, or part) through SumUp, as `manage.py refund` does."""
    amount_text = str(form.amount) if form.amount is not None else "the whole order"
    act = Act(
        staff_user_id,
        "refund",
        f"order #{order_id}",
        order_id=order_id,
        detail=f"amount {amount_text}; reason: {form.reason}",
    )

    async def run() -> RefundResult:
        order_total = await _order_total(session, order_id=order_id)
        return await refund_order(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            amount=form.amount if form.amount is not None else order_total,
        )

    return await audited(
        session,
        act,
        run,
        describe=lambda result: (
            "refunded " + format_money(result.amount, result.currency, locale=settings.locale)
        ),
    )


async def staff_cancel_order(
    session: AsyncSession,
    *,
    staff_user_id: int,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> Cancellation:
    """Cancel an order waiting for payment, its SumUp checkout deactivated first, as the
    shopper's own cancel does; anything but this cancel closing it is refused (409)."""
    act = Act(staff_user_id, "cancel_order", f"order #{order_id}", order_id=order_id)

    async def run() -> Cancellation:
        result = await cancel_waiting_order(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            source="staff",
        )
        # Already closed, or paid at SumUp before the checkout could be deactivated.
        if not result.cancelled_now:
            raise ServiceError(
                409, ErrorCode.ORDER_NOT_WAITING, order_id=order_id, status=result.status
            )
        return result

    return await audited(
        session,
        act,
        run,
        describe=lambda result: (
            "cancelled; SumUp checkout deactivated; bookings and tickets put back in the "
            f"cart: {result.released}"
        ),
    )


async def staff_resolve_mismatch(
    session: AsyncSession, *, staff_user_id: int, order_id: int
) -> None:
    """Record that the order's unmatched payment was settled in SumUp by hand."""
    act = Act(staff_user_id, "resolve_mismatch", f"order #{order_id}", order_id=order_id)

    async def run() -> None:
        await resolve_payment_mismatch(session, order_id=order_id)

    await audited(session, act, run, describe=lambda _: "recorded as resolved")


async def staff_retry_dead_letter(
    session: AsyncSession, *, staff_user_id: int, event_id: int
) -> None:
    """Put one dead-lettered outbox event back in the relay's queue."""
    event = await session.get(OutboxEvent, event_id) if is_id(event_id) else None
    order_id = _order_of(event)
    await session.commit()
    act = Act(staff_user_id, "retry_dead_letter", f"outbox event {event_id}", order_id=order_id)

    async def run() -> None:
        if not await retry_dead_letters(session, ids=[event_id]):
            raise ServiceError(409, ErrorCode.NOT_DEAD_LETTERED, event_id=event_id)

    await audited(session, act, run, describe=lambda _: "put back in the relay's queue")


async def staff_retry_dead_mail(
    session: AsyncSession, *, staff_user_id: int, message_id: int
) -> None:
    """Put one dead message back in the mail queue."""
    order_id = None
    if is_id(message_id):
        order_id = await session.scalar(
            select(SentMessage.order_id).where(SentMessage.id == message_id)
        )
    await session.commit()
    act = Act(staff_user_id, "retry_dead_mail", f"message {message_id}", order_id=order_id)

    async def run() -> None:
        if not await retry_dead_mail(session, ids=[message_id]):
            raise ServiceError(409, ErrorCode.NOT_DEAD_MAIL, message_id=message_id)

    await audited(session, act, run, describe=lambda _: "put back in the mail queue")


async def staff_resend_confirmation(
    session: AsyncSession, *, staff_user_id: int, order_id: int
) -> None:
    """Send the order's confirmation mail again."""
    act = Act(staff_user_id, "resend_confirmation", f"order #{order_id}", order_id=order_id)

    async def run() -> None:
        await resend_confirmation(session, order_id=order_id)

    await audited(session, act, run, describe=lambda _: "put back in the mail queue")


def _order_of(event: OutboxEvent | None) -> int | None:
    """The order an order event reports (its object id)."""
    if event is None or not event.event_type.startswith("order.") or not event.object_id.isdigit():
        return None
    return int(event.object_id)


async def _order_total(session: AsyncSession, *, order_id: int) -> Decimal | None:
    if not is_id(order_id):
        return None
    return await session.scalar(select(Order.total_amount).where(Order.id == order_id))
