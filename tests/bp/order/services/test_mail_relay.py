"""The shopper's mail, sent from the outbox over real SMTP: what each message says, in both
parts; once per event however often and however many senders run; nothing without an address
or without an SMTP host."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import PIPE
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_events import ORDER_PAID, emit_order_event
from bp.cart.services.refunds import refund_order
from bp.order.services.mail_relay import CLAIM_LEASE, claim_next, plan_messages, send_order_mail
from bp.runtime import runtime
from lib.db import open_databases
from lib.localtime import format_local_datetime
from models import CalendarEntry, Order, SentMessage, Ticket, User
from services.mail import SmtpMailer
from tests.support import factories as f
from tests.support.checkout import (
    only_order,
    payment_deps,
    payments_config,
    post_checkout,
    shop_with_cart,
)
from tests.support.http import settings_of, sign_in
from tests.support.mail import Inbox, mail_settings
from tests.support.processes import ROOT
from tests.support.standin import StandinControl

ADA = "ada@example.coop"
# 19:00 in London in summer: a page printing UTC would say 18:00.
SUMMER_EVENING = datetime(2027, 7, 3, 18, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, smtp_inbox: Inbox) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, **mail_settings(smtp_inbox))


async def add_user(db: AsyncSession, user_id: int = 7, email: str | None = ADA) -> None:
    if email is not None:
        db.add(User(id=user_id, email=email, name="Ada Lovelace"))
        await db.commit()


async def send(app: Quart, **kwargs: Any) -> Any:
    serving = runtime(app)
    return await send_order_mail(
        databases=kwargs.pop("databases", serving.databases),
        settings=serving.settings,
        mailer=kwargs.pop("mailer", serving.mailer),
        domains=serving.domains,
        **kwargs,
    )


async def paid_bakery_order(
    app: Quart, client: Any, db: AsyncSession, control: StandinControl, *, sold_out: bool = False
) -> Order:
    """User 7 checks out the bakery (2 loaves, rye, a booking, a ticket) and pays."""
    shop = await shop_with_cart(db, user_id=7, ticket_capacity=1 if sold_out else 50)
    await db.execute(
        update(CalendarEntry)
        .where(CalendarEntry.id.in_([shop.booking.id, shop.ticket_type.entry_id]))
        .values(start_at=SUMMER_EVENING)
    )
    await db.commit()
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    if sold_out:
        await f.ticket(db, shop.ticket_type, user_id=99, state="confirmed")
    await control.pay(str(order.sumup_checkout_id))
    settled = await check_sumup_status(db, order_id=order.id, **payment_deps(app), source="test")
    assert settled.status == "paid"
    return await only_order(db)


async def paid_order(
    app: Quart, db: AsyncSession, *, user_id: int | None = 7, title: str = "Sourdough loaf"
) -> Order:
    """A paid order of one product line and its `order.paid` event, made directly."""
    order = await f.order(
        db,
        user_id=user_id,
        session_id=None if user_id else "anon-1",
        status="paid",
        items=[(title, 2, "4.50")],
    )
    loaded = await db.scalar(
        select(Order)
        .where(Order.id == order.id)
        .options(selectinload(Order.items))
        .execution_options(populate_existing=True)
    )
    assert loaded is not None
    loaded.paid_at = datetime.now(UTC)
    loaded.sumup_transaction_code = f"TX{order.id:06d}"
    await emit_order_event(
        db,
        settings=settings_of(app),
        order=loaded,
        items=list(loaded.items),
        event_type=ORDER_PAID,
        activity_type="rose:OrderPaid",
    )
    await db.commit()
    return loaded


async def messages(db: AsyncSession) -> list[SentMessage]:
    return list(
        await db.scalars(
            select(SentMessage).order_by(SentMessage.id).execution_options(populate_existing=True)
        )
    )


async def test_a_paid_order_mails_its_lines_times_ticket_codes_total_and_transaction(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    smtp_inbox: Inbox,
) -> None:
    await add_user(db)
    order = await paid_bakery_order(app, client, db, sumup_standin_control)
    [ticket] = list(await db.scalars(select(Ticket).where(Ticket.order_id == order.id)))

    result = await send(app)

    assert (result.sent, result.skipped, result.failed) == (1, 0, 0)
    [mail] = smtp_inbox.received
    assert mail.rcpt_tos == [ADA]
    assert mail.message["To"] == f"Ada Lovelace <{ADA}>"
    assert mail.message["From"] == "Rose Ash cart <cart@rose-ash.test>"
    assert mail.subject == f"Order #{order.id} is paid: thank you"
    local = format_local_datetime(SUMMER_EVENING)
    assert local == "Sat, 3 Jul 2027, 19:00 BST"
    for part in (mail.part("plain"), mail.part("html")):
        assert f"order #{order.id}" in part
        assert "Sourdough loaf" in part and "2 \u00d7 £4.50" in part and "£9.00" in part
        assert "Seeded rye" in part and "£3.80" in part
        assert "Bread class" in part and local in part
        assert "Harvest supper" in part and ticket.code in part
        assert "£36.80" in part
        assert order.sumup_transaction_code and order.sumup_transaction_code in part
        assert f"http://127.0.0.1:9/orders/{order.id}/" in part
    [record] = await messages(db)
    assert (record.status, record.kind, record.recipient) == ("sent", "order_paid", ADA)
    assert record.subject == mail.subject and record.message_id == mail.message["Message-ID"]
    assert record.sent_at is not None


async def test_a_title_with_markup_is_escaped_in_the_html_part(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    await paid_order(app, db, title="<script>alert('loaf')</script>")

    await send(app)

    [mail] = smtp_inbox.received
    html = mail.part("html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;loaf&#39;)&lt;/script&gt;" in html
    # Plain text is never interpreted: the title reads as written.
    assert "<script>alert('loaf')</script>" in mail.part("plain")


async def test_running_the_sender_again_sends_nothing_more(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    await paid_order(app, db)
    await paid_order(app, db)

    first = await send(app)
    second = await send(app)

    assert (first.planned, first.sent) == (2, 2)
    assert (second.planned, second.sent) == (0, 0)
    assert len(smtp_inbox.received) == 2
    assert [m.status for m in await messages(db)] == ["sent", "sent"]


async def test_two_senders_racing_send_exactly_one_message_per_event(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    orders = [await paid_order(app, db) for _ in range(12)]
    settings = settings_of(app)
    # Each sender on its own engine: its own connections, as on two workers.
    first, second = open_databases(settings), open_databases(settings)
    try:
        await asyncio.gather(
            *(send(app, databases=dbs, batch_size=3) for dbs in (first, second, first, second))
        )
        await asyncio.gather(send(app, databases=first), send(app, databases=second))
    finally:
        await first.dispose()
        await second.dispose()

    subjects = sorted(mail.subject for mail in smtp_inbox.received)
    assert subjects == sorted(f"Order #{o.id} is paid: thank you" for o in orders)
    records = await messages(db)
    assert len(records) == 12 and {r.status for r in records} == {"sent"}
    assert {r.attempts for r in records} == {1}


async def test_an_anonymous_order_or_a_shopper_without_an_address_is_skipped_for_good(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db, user_id=8, email=None)
    anonymous = await paid_order(app, db, user_id=None)
    unknown = await paid_order(app, db, user_id=8)

    first = await send(app)
    second = await send(app)

    assert smtp_inbox.received == []
    assert (first.skipped, second.skipped, second.planned) == (2, 0, 0)
    notes = {r.order_id: (r.status, r.note) for r in await messages(db)}
    assert notes[anonymous.id] == ("skipped", "anonymous order: no address to write to")
    assert notes[unknown.id] == ("skipped", "user 8 has no usable address")


async def test_a_sold_out_ticket_mails_the_confirmation_and_the_refund_due_then_the_refund(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    smtp_inbox: Inbox,
) -> None:
    await add_user(db)
    order = await paid_bakery_order(app, client, db, sumup_standin_control, sold_out=True)

    await send(app)

    paid, due = smtp_inbox.received
    assert paid.subject == f"Order #{order.id} is paid: thank you"
    assert due.subject == f"Order #{order.id}: part of it sold out, a refund is due"
    for part in (paid.part("plain"), paid.part("html")):
        assert "Sold out: to be refunded" in part and "refund separately" in part
    for part in (due.part("plain"), due.part("html")):
        assert "Sold out when your payment arrived: Harvest supper (Standard)." in part
        assert "We will refund £12.00 to your card." in part
        assert "To be refunded: " in part and "£12.00" in part
        assert order.sumup_transaction_code and order.sumup_transaction_code in part

    serving = runtime(app)
    await refund_order(
        db,
        order_id=order.id,
        settings=serving.settings,
        gateway=serving.gateway,
        domains=serving.domains,
    )
    await send(app)
    await send(app)

    assert len(smtp_inbox.received) == 3
    made = smtp_inbox.received[2]
    assert made.rcpt_tos == [ADA]
    assert made.subject == f"Order #{order.id}: £12.00 refunded"
    for part in (made.part("plain"), made.part("html")):
        assert "We have refunded" in part and "£12.00" in part and f"order #{order.id}" in part
    kinds = [(r.kind, r.status) for r in await messages(db)]
    assert kinds == [("order_paid", "sent"), ("refund_due", "sent"), ("refund_made", "sent")]


async def test_a_sender_that_died_after_claiming_is_taken_over_after_the_lease_once(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    await paid_order(app, db)
    await plan_messages(db)
    claimed = await claim_next(db)  # a sender claims it, then dies before sending
    assert claimed is not None

    await send(app)
    assert smtp_inbox.received == []  # the claim is young: its sender may still be at work

    await db.execute(
        update(SentMessage).values(claimed_at=SentMessage.claimed_at - CLAIM_LEASE - timedelta(1))
    )
    await db.commit()
    await send(app)
    await send(app)

    assert len(smtp_inbox.received) == 1
    [record] = await messages(db)
    assert (record.status, record.attempts) == ("sent", 2)


async def test_an_unreachable_server_sends_nothing_and_the_message_waits(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    await paid_order(app, db)
    serving = runtime(app)
    # A port nothing listens on.
    down = SmtpMailer(
        host="127.0.0.1", port=9, starttls=False, username=None, password=None, timeout_seconds=2
    )
    result = await send(app, mailer=down)

    assert result.outcomes == ["unreachable"]
    [record] = await messages(db)
    assert (record.status, record.failures, record.claimed_at) == ("pending", 0, None)
    assert record.next_attempt_at > datetime.now(UTC)
    await db.execute(update(SentMessage).values(next_attempt_at=datetime.now(UTC)))
    await db.commit()
    assert (await send(app, mailer=serving.mailer)).sent == 1
    assert len(smtp_inbox.received) == 1


async def test_an_unreachable_account_database_holds_the_message_without_counting_it(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await paid_order(app, db)
    settings = settings_of(app).model_copy(
        update={"database_url_account": "postgresql://root@127.0.0.1:9/accounts"}
    )
    broken = open_databases(settings)
    try:
        result = await send(app, databases=broken)
    finally:
        await broken.dispose()

    assert result.outcomes == ["unreachable"]
    [record] = await messages(db)
    assert (record.status, record.failures, record.claimed_at) == ("pending", 0, None)
    assert record.note and "account database" in record.note
    assert smtp_inbox.received == []


async def test_a_refusal_waits_and_a_permanent_one_is_dead_lettered(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    await paid_order(app, db)
    smtp_inbox.refuse = "451 Try again later"

    assert (await send(app)).outcomes == ["refused"]
    [record] = await messages(db)
    assert (record.status, record.failures) == ("pending", 1)
    assert record.note and "451" in record.note

    await db.execute(update(SentMessage).values(next_attempt_at=datetime.now(UTC)))
    await db.commit()
    smtp_inbox.refuse = "550 No such mailbox"
    assert (await send(app)).outcomes == ["dead"]
    [record] = await messages(db)
    assert (record.status, record.failures) == ("dead", 2)
    assert record.note and "550" in record.note
    assert (await send(app)).outcomes == []
    assert smtp_inbox.received == []


async def test_manage_mail_runs_one_pass(app: Quart, db: AsyncSession, smtp_inbox: Inbox) -> None:
    await add_user(db)
    await paid_order(app, db)
    settings = settings_of(app)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_inbox.port),
        "SMTP_STARTTLS": "false",
    }

    outputs = []
    for _ in range(2):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "mail", cwd=ROOT, env=env, stdout=PIPE, stderr=PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        outputs.append(out.decode())

    assert "planned 1, sent 1, skipped 0, failed 0" in outputs[0]
    assert "planned 0, sent 0" in outputs[1]
    assert len(smtp_inbox.received) == 1


@pytest.mark.slow
async def test_two_worker_processes_racing_send_exactly_one_message_per_event(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    orders = [await paid_order(app, db) for _ in range(10)]
    settings = settings_of(app)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_inbox.port),
        "SMTP_STARTTLS": "false",
    }

    async def worker() -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "mail", cwd=ROOT, env=env, stdout=PIPE, stderr=PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        return out.decode()

    # Both plan the same events and compete for every message.
    await asyncio.gather(worker(), worker())

    subjects = sorted(mail.subject for mail in smtp_inbox.received)
    assert subjects == sorted(f"Order #{o.id} is paid: thank you" for o in orders)
    assert {r.status for r in await messages(db)} == {"sent"}
