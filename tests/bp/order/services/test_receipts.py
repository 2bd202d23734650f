"""Every order gets its mail over real SMTP, a guest's as a signed-in shopper's: the receipt
carries the order's link (which opens the order from a browser with no session), a calendar
file per booking and event (RFC 5545, the coop's local times), and each ticket's QR code as an
image that reads back as the ticket's code; refund mails reach guests too, once per event."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from quart import Quart
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_events import ORDER_REFUNDED, emit_order_event
from models import CalendarEntry, Order, SentMessage, Ticket
from tests.bp.order.services.test_mail_relay import (
    SUMMER_EVENING,
    add_user,
    messages,
    paid_bakery_order,
    paid_order,
    send,
)
from tests.support import factories as f
from tests.support.checkout import (
    GUEST_EMAIL,
    anonymous_shopper,
    only_order,
    payment_deps,
    payments_config,
    post_checkout,
    shop_with_cart,
)
from tests.support.http import settings_of, sign_in
from tests.support.mail import Inbox, mail_settings
from tests.support.qr import read_png_qr
from tests.support.standin import StandinControl

LINK = re.compile(r"https?://[^\s\"<>]+/orders/(\d+)/([0-9a-f]{64})/")


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, smtp_inbox: Inbox) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, **mail_settings(smtp_inbox))


async def paid_guest_order(
    app: Quart, client: Any, db: AsyncSession, control: StandinControl
) -> Order:
    """A guest checks out the bakery (loaves, rye, a booking) giving an address, and pays."""
    sid = await anonymous_shopper(app, client)
    shop = await shop_with_cart(db, session_id=sid)
    await db.execute(
        update(CalendarEntry)
        .where(CalendarEntry.id == shop.booking.id)
        .values(start_at=SUMMER_EVENING)
    )
    await db.commit()
    assert (await post_checkout(app, client, "bakery", email=GUEST_EMAIL)).status_code == 303
    order = await only_order(db)
    await control.pay(str(order.sumup_checkout_id))
    settled = await check_sumup_status(db, order_id=order.id, **payment_deps(app), source="test")
    assert settled.status == "paid"
    return await only_order(db)


def attachments(message: EmailMessage) -> dict[str, EmailMessage]:
    return {
        str(part.get_filename()): part
        for part in message.iter_attachments()
        if isinstance(part, EmailMessage)
    }


async def test_a_guest_is_mailed_the_receipt_with_a_link_that_opens_the_order_anywhere(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    smtp_inbox: Inbox,
) -> None:
    order = await paid_guest_order(app, client, db, sumup_standin_control)

    result = await send(app)

    assert (result.sent, result.skipped) == (1, 0)
    [mail] = smtp_inbox.received
    assert mail.rcpt_tos == [GUEST_EMAIL]
    assert mail.subject == f"Order #{order.id} is paid: thank you"
    links = set()
    for part in (mail.part("plain"), mail.part("html")):
        assert "Sourdough loaf" in part and "Bread class" in part
        assert f"£{order.total_amount}" in part
        found = LINK.search(part)
        assert found is not None, part
        links.add((int(found.group(1)), found.group(2)))
    assert links == {(order.id, order.access_secret)}
    [record] = await messages(db)
    assert (record.status, record.recipient) == ("sent", GUEST_EMAIL)

    # The link, opened in a browser that never saw the checkout.
    elsewhere = app.test_client()
    opened = await elsewhere.get(f"/orders/{order.id}/{order.access_secret}/")
    page = await opened.get_data(as_text=True)
    assert opened.status_code == 200
    assert f"Order #{order.id}" in page and "Sourdough loaf" in page and "Bread class" in page
    assert (await elsewhere.get(f"/orders/{order.id}/")).status_code == 404


async def test_the_receipt_carries_a_calendar_file_per_booking_and_event_at_local_times(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    smtp_inbox: Inbox,
) -> None:
    await add_user(db)
    order = await paid_bakery_order(app, client, db, sumup_standin_control)
    [ticket] = list(await db.scalars(select(Ticket).where(Ticket.order_id == order.id)))

    await send(app)

    [mail] = smtp_inbox.received
    files = attachments(mail.message)
    assert sorted(files) == ["bread-class-2027-07-03.ics", "harvest-supper-2027-07-03.ics"]
    london = ZoneInfo("Europe/London")
    summaries = {}
    for name, part in files.items():
        assert part.get_content_type() == "text/calendar"
        assert part.get_content_disposition() == "attachment"
        content = part.get_content()
        assert isinstance(content, bytes | str)
        calendar = Calendar.from_ical(content)
        [event] = calendar.walk("VEVENT")
        start = event.decoded("DTSTART")
        # 18:00 UTC in July is 19:00 in London, written with the zone, not as UTC.
        assert str(start.tzinfo) == "Europe/London" and (start.hour, start.minute) == (19, 0)
        assert start == SUMMER_EVENING.astimezone(london)
        assert "TZID=Europe/London" in (content if isinstance(content, str) else content.decode())
        summaries[name] = (str(event["SUMMARY"]), str(event["UID"]), str(event["DESCRIPTION"]))
    assert summaries["bread-class-2027-07-03.ics"][0] == "Bread class"
    supper = summaries["harvest-supper-2027-07-03.ics"]
    assert supper[0] == "Harvest supper" and ticket.code in supper[2]
    assert supper[1].startswith("event-") and order.access_secret in supper[2]
    # The text part names what is attached.
    assert "bread-class-2027-07-03.ics" in mail.part("plain")


async def test_each_ticket_comes_as_a_qr_image_that_reads_back_as_its_code(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    smtp_inbox: Inbox,
) -> None:
    await add_user(db)
    order = await paid_bakery_order(app, client, db, sumup_standin_control)
    [ticket] = list(await db.scalars(select(Ticket).where(Ticket.order_id == order.id)))

    await send(app)

    [mail] = smtp_inbox.received
    html = mail.part("html")
    image = re.search(r'<img src="cid:([^"]+)"[^>]*alt="QR code of ticket ([0-9A-F]+)"', html)
    assert image is not None and image.group(2) == ticket.code
    [png] = [
        part
        for part in mail.message.walk()
        if part.get_content_type() == "image/png" and part["Content-ID"] == f"<{image.group(1)}>"
    ]
    pixels = png.get_content()
    assert isinstance(pixels, bytes)
    assert read_png_qr(pixels) == [ticket.code]
    # Without images, the code is still there as text, in both parts.
    assert "Ticket code <code" in html and ticket.code in mail.part("plain")


async def test_the_receipt_lists_tickets_of_one_type_on_one_line_with_each_code(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    smtp_inbox: Inbox,
) -> None:
    # As the thank-you page, the order page and the orders list count them: one line per event
    # and type with how many, each ticket's code under it.
    await add_user(db)
    shop = await shop_with_cart(db, user_id=7)
    for _ in range(2):
        await f.ticket(db, shop.ticket_type, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    settled = await check_sumup_status(db, order_id=order.id, **payment_deps(app), source="test")
    assert settled.status == "paid"
    codes = sorted(await db.scalars(select(Ticket.code).where(Ticket.order_id == order.id)))
    assert len(codes) == 3

    await send(app)

    [mail] = smtp_inbox.received
    html, plain = mail.part("html"), mail.part("plain")
    assert re.findall(r'<tr data-kind="ticket" data-quantity="(\d+)">', html) == ["3"]
    # Named once (the calendar file's note names the event apart from the lines).
    assert html.count("Harvest supper (Standard)") == 1
    assert plain.count("Harvest supper (Standard)") == 1
    assert re.search(r"- Harvest supper \(Standard\), [^\n]+: 3 \u00d7 £12\.00 = £36\.00", plain)
    for code in codes:
        assert f"Ticket code: {code}" in plain
        assert re.search(rf"Ticket code <code[^>]*>{code}</code>", html)


async def test_refund_mails_reach_a_guest_once_each(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    order = await paid_order(app, db, user_id=None)
    await db.execute(update(Order).where(Order.id == order.id).values(email=GUEST_EMAIL))
    order.refunded_amount = Decimal("9.00")
    order.refunded_at = datetime.now(UTC)
    await db.commit()
    await emit_order_event(
        db,
        settings=settings_of(app),
        order=order,
        items=list(order.items),
        event_type=ORDER_REFUNDED,
        activity_type="rose:OrderRefunded",
    )
    await db.commit()

    await send(app)
    await send(app)

    subjects = sorted((m.subject, tuple(m.rcpt_tos)) for m in smtp_inbox.received)
    assert subjects == [
        (f"Order #{order.id} is paid: thank you", (GUEST_EMAIL,)),
        (f"Order #{order.id}: £9.00 refunded", (GUEST_EMAIL,)),
    ]
    assert [(r.kind, r.status) for r in await messages(db)] == [
        ("order_paid", "sent"),
        ("refund_made", "sent"),
    ]
    assert all(
        isinstance(r, SentMessage) and r.recipient == GUEST_EMAIL for r in await messages(db)
    )
