"""An order's whole story for the staff: its lines, bookings and tickets, and one timeline,
newest first, of its payment attempts, refund, mails, events and staff actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.cart.services.refunds import refund_due
from bp.order.services.get_order import OrderView, view_of_order
from bp.staff.services.audit import order_actions
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.ids import is_id
from lib.money import format_money
from models import OPEN_STATUSES, Order, OutboxEvent, PaymentAttempt, SentMessage, StaffAction
from services.contracts.dtos import ShopperContact
from services.registry import DomainServices


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    # payment, refund, mail, event, staff, order: how the entry is marked on the page.
    kind: str
    title: str
    detail: str = ""
    # A staff action's outcome ("done" or "refused"); an event's or mail's state.
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class StaffOrder:
    """Everything the staff's page of one order shows."""

    order: Order
    view: OrderView
    shopper: ShopperContact | None
    page_title: str | None
    attempts: list[PaymentAttempt]
    mails: list[SentMessage]
    timeline: list[TimelineEntry]
    # What a refund would give back by default (what could not be delivered, else all).
    refundable: Decimal

    @property
    def can_refund(self) -> bool:
        return (
            self.order.status == "paid"
            and self.order.refunded_at is None
            and self.order.refund_requested_at is None
            and self.order.sumup_transaction_id is not None
        )

    @property
    def can_cancel(self) -> bool:
        return self.order.status in OPEN_STATUSES

    @property
    def can_resend_confirmation(self) -> bool:
        return any(
            mail.kind == "order_paid" and mail.status in ("sent", "dead") for mail in self.mails
        )

    @property
    def mismatch_open(self) -> bool:
        return (
            self.order.payment_mismatch_at is not None
            and self.order.payment_mismatch_resolved_at is None
        )


async def load_staff_order_or_raise(session: AsyncSession, *, order_id: int) -> Order:
    """Any shopper's order with its items; NotFound when there is none."""
    order = None
    if is_id(order_id):
        order = await session.scalar(
            select(Order).where(Order.id == order_id).options(selectinload(Order.items))
        )
    if order is None:
        raise NotFound(ErrorCode.UNKNOWN_ORDER, order_id=order_id)
    return order


async def staff_order(
    session: AsyncSession,
    *,
    account_session: AsyncSession,
    order_id: int,
    settings: Settings,
    domains: DomainServices,
) -> StaffOrder:
    """The order, who placed it, and its timeline."""
    order = await load_staff_order_or_raise(session, order_id=order_id)
    view = await view_of_order(session, order=order, domains=domains)
    attempts = list(
        await session.scalars(
            select(PaymentAttempt)
            .where(PaymentAttempt.order_id == order.id)
            .order_by(PaymentAttempt.attempt.desc())
        )
    )
    mails = list(await session.scalars(select(SentMessage).where(SentMessage.order_id == order.id)))
    events = list(
        await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.object_id == str(order.id), OutboxEvent.event_type.like("order.%")
            )
        )
    )
    actions = await order_actions(session, order_id=order.id)
    people = await domains.account.contacts(
        account_session,
        [action.staff_user_id for action in actions]
        + ([order.user_id] if order.user_id is not None else []),
    )
    shopper = people.get(order.user_id) if order.user_id is not None else None
    page_title = None
    if order.page_id is not None:
        pages = await domains.blog.pages_by_ids(session, [order.page_id])
        page_title = pages[order.page_id].title if order.page_id in pages else None
    refundable = await refund_due(session, order=order, domains=domains)
    await session.commit()
    return StaffOrder(
        order=order,
        view=view,
        shopper=shopper,
        page_title=page_title,
        attempts=attempts,
        mails=mails,
        timeline=timeline_of(
            order,
            attempts,
            mails,
            events,
            actions,
            staff={user_id: contact.name or contact.email for user_id, contact in people.items()},
            money=lambda amount: format_money(amount, order.currency, locale=settings.locale),
        ),
        refundable=refundable,
    )


def timeline_of(
    order: Order,
    attempts: list[PaymentAttempt],
    mails: list[SentMessage],
    events: list[OutboxEvent],
    actions: list[StaffAction],
    *,
    staff: dict[int, str],
    money: Callable[[Decimal], str],
) -> list[TimelineEntry]:
    """Every dated thing that happened to the order, newest first."""
    entries = [TimelineEntry(order.created_at, "order", "Order placed")]
    entries += _order_dates(order, money)
    for attempt in attempts:
        entries.append(
            TimelineEntry(
                attempt.started_at,
                "payment",
                f"Payment attempt {attempt.attempt} started",
                f"reference {attempt.sumup_reference}"
                + (f", checkout {attempt.sumup_checkout_id}" if attempt.sumup_checkout_id else ""),
            )
        )
        if attempt.sumup_status:
            code = attempt.sumup_transaction_code
            entries.append(
                TimelineEntry(
                    attempt.updated_at,
                    "payment",
                    f"Payment attempt {attempt.attempt}: SumUp says {attempt.sumup_status}",
                    f"transaction {code}" if code else "",
                    outcome=attempt.sumup_status.lower(),
                )
            )
    for mail in mails:
        entries.append(
            TimelineEntry(
                mail.sent_at or mail.created_at,
                "mail",
                f"Mail “{_mail_label(mail.kind)}”: {mail.status}",
                ", ".join(part for part in (mail.recipient or "", mail.note or "") if part),
                outcome=mail.status,
            )
        )
    for event in events:
        state = (
            "dead-lettered"
            if event.dead_lettered_at
            else ("delivered" if event.delivered_at else "waiting")
        )
        entries.append(
            TimelineEntry(
                event.created_at,
                "event",
                f"Event {event.activity_type} ({state})",
                event.last_error or "",
                outcome=state,
            )
        )
    for action in actions:
        entries.append(
            TimelineEntry(
                action.created_at,
                "staff",
                f"Staff: {action.action.replace('_', ' ')} by "
                f"{staff.get(action.staff_user_id, f'user {action.staff_user_id}')}",
                "; ".join(part for part in (action.detail, action.message) if part),
                outcome=action.outcome,
            )
        )
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _order_dates(order: Order, money: Callable[[Decimal], str]) -> list[TimelineEntry]:
    entries = []
    if order.paid_at:
        entries.append(TimelineEntry(order.paid_at, "order", "Paid"))
    if order.closed_at and order.status in ("expired", "cancelled"):
        entries.append(TimelineEntry(order.closed_at, "order", f"Order {order.status}"))
    if order.payment_mismatch_at:
        entries.append(
            TimelineEntry(
                order.payment_mismatch_at,
                "payment",
                "A payment did not match the order",
                order.payment_mismatch_reason or "",
                outcome="mismatch",
            )
        )
    if order.payment_mismatch_resolved_at:
        entries.append(
            TimelineEntry(order.payment_mismatch_resolved_at, "payment", "Mismatch resolved")
        )
    amount = money(order.refunded_amount) if order.refunded_amount is not None else ""
    if order.refund_requested_at:
        entries.append(
            TimelineEntry(order.refund_requested_at, "refund", "Refund sent to SumUp", amount)
        )
    if order.refunded_at:
        entries.append(
            TimelineEntry(order.refunded_at, "refund", "Refund made", amount, outcome="done")
        )
    return entries


MAIL_LABELS = {
    "order_paid": "confirmation",
    "refund_due": "refund due",
    "refund_made": "refund made",
}


def _mail_label(kind: str) -> str:
    return MAIL_LABELS.get(kind, kind)
