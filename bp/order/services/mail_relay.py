"""The shopper's mail, sent from the outbox: once per event and kind, by any number of senders.

A pass plans, then sends:
1. Planning reads the order events that call for mail (bp/order/services/order_mail.py) and
   inserts one `sent_messages` row per message, `pending`. UNIQUE(activity_id, kind) makes
   planning idempotent: two senders planning one event insert its rows once.
2. Sending claims one due row at a time (`pending` → `sending`, FOR UPDATE SKIP LOCKED, so
   two senders never claim one row), commits the claim, and only then talks to the mail
   server; no transaction is open while it does. Once the server has accepted the message
   the row is marked `sent`. A guest's order is mailed to the address the guest gave at
   checkout; a signed-in shopper's to the account domain's. An order with neither (a guest's
   from before addresses were asked for, or an account with no usable address) is marked
   `skipped` (for good: there is nobody to retry for).

The crash window lies between the server's acceptance and the `sent` mark. Choosing between
"maybe twice" and "maybe never", this picks at least once: a row left `sending` is claimed
again once its claim is older than CLAIM_LEASE (far longer than one SMTP session may take,
so a sender still at work is never overtaken) and the message is sent again. The copy carries
the same Message-ID, so the shopper's mail program shows it as the one message. Anything that
fails before the server accepted the message (refused, unreachable, a rendering error)
releases the claim at once, so only a real crash in that window can ever send twice.

A server that cannot be reached leaves the row due again after RELAY_BACKOFF_SECONDS and ends
the pass, counting nothing against the message; a refusal counts, waits twice as long each
time, and after RELAY_MAX_ATTEMPTS refusals (or at once for a permanent 5xx) the row is
dead-lettered (`dead`, the server's answer in `note`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from jinja2 import Environment
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.cart.services.shopper import order_contact
from bp.order.services.get_order import OrderView, view_of_order
from bp.order.services.order_lookup import ORDER_LINKS_MAIL, orders_of_address
from bp.order.services.order_mail import (
    MAIL_EVENTS,
    Rendered,
    build_message,
    kinds_for,
    recipient_of,
    render_mail,
    render_order_links,
)
from config.settings import Settings
from lib.db import Databases
from lib.errors import database_unavailable
from lib.jobs import run_every
from models import Order, OutboxEvent, SentMessage
from services.contracts.dtos import ShopperContact
from services.events import retry_delay
from services.mail import Mailer, MailError, mail_environment
from services.registry import DomainServices
from services.runtime import Runtime

# A claim older than this is taken to be a sender that died after claiming (see above): longer
# than the longest SMTP session (twice SMTP_TIMEOUT_SECONDS, at most 300 s, services/mail/smtp.py).
CLAIM_LEASE = timedelta(minutes=15)
# Events older than this are not mailed: a confirmation a week late would only confuse (mail
# switched on long after the orders were paid).
LOOKBACK = timedelta(days=7)
MAX_NOTE_LENGTH = 2000

log = logging.getLogger(__name__)


@dataclass
class MailResult:
    """What one pass did."""

    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    outcomes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    id: int
    activity_id: str
    kind: str
    order_id: int
    failures: int
    # Set when planned (a "find my orders" request names its address); else found at sending.
    recipient: str | None = None


async def plan_messages(session: AsyncSession, *, batch_size: int = 100) -> int:
    """Insert the messages that recent order events call for and that are not planned yet;
    answers how many were inserted. Commits."""
    planned_already = exists().where(SentMessage.activity_id == OutboxEvent.activity_id)
    rows = (
        await session.execute(
            select(OutboxEvent.activity_id, OutboxEvent.event_type, OutboxEvent.payload)
            .where(
                OutboxEvent.event_type.in_(MAIL_EVENTS),
                OutboxEvent.created_at > func.now() - LOOKBACK,
                ~planned_already,
            )
            .order_by(OutboxEvent.id)
            .limit(batch_size)
        )
    ).all()
    values: list[dict[str, Any]] = []
    for activity_id, event_type, activity in rows:
        order_id = (activity.get("object") or {}).get("orderId")
        if not isinstance(order_id, int):
            log.error("outbox event %s names no order; no mail", activity_id)
            continue
        values += [
            {"activity_id": activity_id, "kind": kind, "order_id": order_id}
            for kind in kinds_for(event_type, activity)
        ]
    inserted = 0
    if values:
        result = await session.execute(
            insert(SentMessage)
            .values(values)
            .on_conflict_do_nothing(constraint="uq_sent_messages_activity_id_kind")
            .returning(SentMessage.id)
        )
        inserted = len(result.all())
    await session.commit()
    return inserted


async def claim_next(session: AsyncSession) -> _Claim | None:
    """Claim the next due message (committed before anything is sent); None when none is due."""
    due = or_(
        and_(SentMessage.status == "pending", SentMessage.next_attempt_at <= func.now()),
        and_(SentMessage.status == "sending", SentMessage.claimed_at < func.now() - CLAIM_LEASE),
    )
    next_id = (
        select(SentMessage.id)
        .where(SentMessage.status.in_(("pending", "sending")), due)
        .order_by(SentMessage.next_attempt_at, SentMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(SentMessage)
            .where(SentMessage.id == next_id)
            .values(status="sending", claimed_at=func.now(), attempts=SentMessage.attempts + 1)
            .returning(
                SentMessage.id,
                SentMessage.activity_id,
                SentMessage.kind,
                SentMessage.order_id,
                SentMessage.failures,
                SentMessage.recipient,
            )
        )
    ).first()
    await session.commit()
    if row is None:
        return None
    return _Claim(
        id=row.id,
        activity_id=str(row.activity_id),
        kind=row.kind,
        order_id=row.order_id,
        failures=row.failures,
        recipient=row.recipient,
    )


async def send_order_mail(
    *,
    databases: Databases,
    settings: Settings,
    mailer: Mailer | None,
    domains: DomainServices,
    environment: Environment | None = None,
    batch_size: int = 100,
    stop: asyncio.Event | None = None,
) -> MailResult:
    """One pass: plan the messages new events call for, then send up to `batch_size` due ones.

    With no mailer (no SMTP_HOST) mail is off: nothing is planned or sent.
    """
    result = MailResult()
    if mailer is None:
        return result
    environment = environment or mail_environment(settings)
    async with databases.sessionmaker() as session:
        result.planned = await plan_messages(session, batch_size=batch_size)
        for _ in range(batch_size):
            if stop is not None and stop.is_set():
                break
            claim = await claim_next(session)
            if claim is None:
                break
            outcome = await _send(
                session,
                claim=claim,
                databases=databases,
                settings=settings,
                mailer=mailer,
                domains=domains,
                environment=environment,
            )
            result.outcomes.append(outcome)
            if outcome == "sent":
                result.sent += 1
            elif outcome == "skipped":
                result.skipped += 1
            else:
                result.failed += 1
                result.dead += outcome == "dead"
            if outcome == "unreachable":
                break
    if result.planned or result.outcomes:
        log.info(
            "mail: %d planned, %d sent, %d skipped, %d failed (%d dead-lettered)",
            result.planned,
            result.sent,
            result.skipped,
            result.failed,
            result.dead,
        )
    return result


async def _send(
    session: AsyncSession,
    *,
    claim: _Claim,
    databases: Databases,
    settings: Settings,
    mailer: Mailer,
    domains: DomainServices,
    environment: Environment,
) -> str:
    """Send one claimed message; answers what became of it."""
    if claim.kind == ORDER_LINKS_MAIL:
        return await _send_order_links(
            session, claim=claim, settings=settings, mailer=mailer, environment=environment
        )
    order = await session.scalar(
        select(Order)
        .where(Order.id == claim.order_id)
        .options(selectinload(Order.items))
        .execution_options(populate_existing=True)
    )
    if order is None:
        return await _skip(session, claim, "the order no longer exists")
    view = await view_of_order(session, order=order, domains=domains)
    await session.commit()
    if order.user_id is None:
        if order.email is None:
            # An order made before guests were asked for an address.
            return await _skip(session, claim, "anonymous order: no address to write to")
        return await _deliver(
            session,
            claim=claim,
            order=order,
            view=view,
            contact=ShopperContact(email=order.email),
            settings=settings,
            mailer=mailer,
            environment=environment,
        )
    try:
        async with databases.account_sessionmaker() as account:
            contact = await order_contact(account, order=order, domains=domains)
    except Exception as error:
        if not database_unavailable(error):
            raise
        # The account domain's database is down: like an unreachable mail server, this is
        # nobody's fault and counts nothing against the message; it waits and the pass ends.
        log.warning("mail %s: the account database is unreachable: %s", claim.id, error)
        await _release(
            session,
            claim,
            note=f"the account database could not be reached: {error}",
            wait=timedelta(seconds=settings.relay_backoff_seconds),
        )
        return "unreachable"
    if contact is None or recipient_of(contact) is None:
        return await _skip(session, claim, f"user {order.user_id} has no usable address")
    return await _deliver(
        session,
        claim=claim,
        order=order,
        view=view,
        contact=contact,
        settings=settings,
        mailer=mailer,
        environment=environment,
    )


async def _send_order_links(
    session: AsyncSession,
    *,
    claim: _Claim,
    settings: Settings,
    mailer: Mailer,
    environment: Environment,
) -> str:
    """Mail a "find my orders" request its address's order links (as they are now)."""
    recipient = recipient_of(ShopperContact(email=claim.recipient or ""))
    if recipient is None:
        return await _skip(session, claim, "the address cannot be written to")
    orders = await orders_of_address(session, address=recipient.addr_spec)
    await session.commit()
    if not orders:
        return await _skip(session, claim, "the address has no orders any more")
    rendered = render_order_links(environment, orders=orders, settings=settings)
    message = build_message(
        rendered,
        recipient=recipient,
        settings=settings,
        activity_id=claim.activity_id,
        kind=claim.kind,
    )
    return await _hand_over(
        session, claim=claim, settings=settings, mailer=mailer, rendered=rendered, message=message
    )


async def _deliver(
    session: AsyncSession,
    *,
    claim: _Claim,
    order: Order,
    view: OrderView,
    contact: ShopperContact,
    settings: Settings,
    mailer: Mailer,
    environment: Environment,
) -> str:
    """Render the claimed message for `contact`, hand it to the mail server, record it."""
    recipient = recipient_of(contact)
    if recipient is None:
        return await _skip(session, claim, "the order's address cannot be written to")
    try:
        rendered = render_mail(
            environment, kind=claim.kind, order=order, view=view, contact=contact, settings=settings
        )
        message = build_message(
            rendered,
            recipient=recipient,
            settings=settings,
            activity_id=claim.activity_id,
            kind=claim.kind,
        )
    except Exception as error:  # a template that fails must not hold the queue up forever
        log.exception(
            "mail %s (%s, order %s) could not be rendered", claim.id, claim.kind, order.id
        )
        return await _refused(
            session, claim, settings, f"{type(error).__name__}: {error}", permanent=False
        )
    return await _hand_over(
        session, claim=claim, settings=settings, mailer=mailer, rendered=rendered, message=message
    )


async def _hand_over(
    session: AsyncSession,
    *,
    claim: _Claim,
    settings: Settings,
    mailer: Mailer,
    rendered: Rendered,
    message: EmailMessage,
) -> str:
    """Give the message to the mail server and record what it answered."""
    try:
        await mailer.send(message)
    except MailError as error:
        if error.unreachable:
            log.warning("mail %s: %s; waiting", claim.id, error)
            await _release(
                session,
                claim,
                note=str(error),
                wait=timedelta(seconds=settings.relay_backoff_seconds),
            )
            return "unreachable"
        return await _refused(session, claim, settings, str(error), permanent=error.permanent)
    await _mark(
        session,
        claim,
        status="sent",
        sent_at=func.now(),
        recipient=message["To"].addresses[0].addr_spec,
        subject=rendered.subject,
        message_id=message["Message-ID"],
        note=None,
    )
    log.info("mail %s (%s, order %s) sent", claim.id, claim.kind, claim.order_id)
    return "sent"


async def _skip(session: AsyncSession, claim: _Claim, note: str) -> str:
    log.info("mail %s (%s, order %s) skipped: %s", claim.id, claim.kind, claim.order_id, note)
    await _mark(session, claim, status="skipped", note=note)
    return "skipped"


async def _refused(
    session: AsyncSession, claim: _Claim, settings: Settings, note: str, *, permanent: bool
) -> str:
    failures = claim.failures + 1
    if permanent or failures >= settings.relay_max_attempts:
        log.error(
            "mail %s (%s, order %s) dead-lettered after %d refusals: %s",
            claim.id,
            claim.kind,
            claim.order_id,
            failures,
            note,
        )
        await _mark(session, claim, status="dead", failures=failures, note=note[:MAX_NOTE_LENGTH])
        return "dead"
    log.warning("mail %s refused (%d): %s", claim.id, failures, note)
    await _release(
        session,
        claim,
        note=note,
        failures=failures,
        wait=retry_delay(failures, base_seconds=settings.relay_backoff_seconds),
    )
    return "refused"


async def _release(
    session: AsyncSession,
    claim: _Claim,
    *,
    note: str,
    wait: timedelta,
    failures: int | None = None,
) -> None:
    """Give the claim back: nothing was sent, the message is due again after `wait`."""
    values: dict[str, Any] = {
        "status": "pending",
        "claimed_at": None,
        "next_attempt_at": func.now() + wait,
        "note": note[:MAX_NOTE_LENGTH],
    }
    if failures is not None:
        values["failures"] = failures
    await _mark(session, claim, **values)


async def _mark(session: AsyncSession, claim: _Claim, **values: Any) -> None:
    await session.execute(update(SentMessage).where(SentMessage.id == claim.id).values(**values))
    await session.commit()


async def mail_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background job: send the shopper's mail every RELAY_INTERVAL_SECONDS until told to stop;
    returns at once when mail is off (no SMTP_HOST)."""
    mailer, settings = runtime.mailer, runtime.settings
    if mailer is None:
        log.info("mail is off (SMTP_HOST is not set): no mail is sent")
        return
    environment = mail_environment(settings)
    await run_every(
        settings.relay_interval_seconds,
        lambda: send_order_mail(
            databases=runtime.databases,
            settings=settings,
            mailer=mailer,
            domains=runtime.domains,
            environment=environment,
            batch_size=settings.relay_batch_size,
            stop=stop,
        ),
        stop=stop,
        name="mail",
    )
