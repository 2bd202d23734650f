"""GET /orders/<id>/<secret>/: the order opened by its link, from a browser with no session;
read-only, private (no referrer, no index, no cache), a 404 for a wrong secret, rate-limited.
Its calendar files parse as RFC 5545 with the coop's local times, and each ticket's QR code,
drawn to pixels, reads back as the ticket's code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.runtime import runtime
from models import CalendarEntry, Order, Ticket
from tests.bp.order.test_routes import get, make_order, text_of, ticketed_order
from tests.support.http import sign_in
from tests.support.qr import read_svg_qr

SUMMER_START = datetime(2027, 7, 1, 17, 30, tzinfo=UTC)  # 18:30 in London (BST)
WINTER_START = datetime(2027, 1, 15, 19, 0, tzinfo=UTC)  # 19:00 in London (GMT)
SVG = re.compile(
    r'<span class="block w-full" data-testid="ticket-qr" data-code="([0-9A-F]+)">'
    r"(<svg.*?</svg>)</span>",
    re.S,
)


def link_of(order: Order) -> str:
    return f"/orders/{order.id}/{order.access_secret}/"


async def paid_ticketed_order(db: AsyncSession, **fields: Any) -> Order:
    """A paid order (booking and three confirmed tickets) at known times, winter and summer."""
    order = await ticketed_order(db, sold_out=0, **fields)
    booking = await db.scalar(select(CalendarEntry).where(CalendarEntry.order_id == order.id))
    assert booking is not None
    booking.start_at, booking.end_at = SUMMER_START, SUMMER_START + timedelta(hours=2)
    ticket = await db.scalar(select(Ticket).where(Ticket.order_id == order.id).limit(1))
    assert ticket is not None
    event = await db.get(CalendarEntry, ticket.entry_id)
    assert event is not None
    event.start_at = WINTER_START
    await db.commit()
    await db.refresh(order)
    return order


async def ticket_codes(db: AsyncSession, order: Order) -> list[str]:
    return sorted(await db.scalars(select(Ticket.code).where(Ticket.order_id == order.id)))


async def test_the_link_opens_the_order_in_a_browser_with_no_session(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await paid_ticketed_order(db)

    response = await client.get(link_of(order))

    assert response.status_code == 200
    body = await response.get_data(as_text=True)
    seen = text_of(body)
    assert f"Order #{order.id}" in seen and "Taster session" in seen and "Total £55.50" in seen
    for code in await ticket_codes(db, order):
        assert code in seen
    # The secret is in the URL: told to no other site, kept by no index or cache.
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert '<meta name="referrer" content="no-referrer">' in body


async def test_the_link_is_read_only(app: Any, client: Any, db: AsyncSession) -> None:
    order = await make_order(db, status="failed", checkout_started_at=datetime.now(UTC))

    status, body = await get(client, link_of(order))

    assert status == 200
    assert "Pay again" not in body and 'id="check-again"' not in body
    assert f"/orders/{order.id}/pay/" not in body
    assert "open it in the browser you ordered in" in text_of(body)
    # Nor may the link's visitor act on the order: the payment routes are the owner's.
    assert (await client.post(f"/orders/{order.id}/pay/")).status_code in (400, 403, 404)


@pytest.mark.parametrize("wrong", ["another order's", "one digit off", "upper case", "unknown id"])
async def test_a_wrong_secret_finds_nothing(
    app: Any, client: Any, db: AsyncSession, wrong: str
) -> None:
    order = await paid_ticketed_order(db)
    other = await make_order(db, user_id=8)
    secret = order.access_secret
    path = {
        "another order's": f"/orders/{order.id}/{other.access_secret}/",
        "one digit off": f"/orders/{order.id}/{secret[:-1]}{'0' if secret[-1] != '0' else '1'}/",
        "upper case": f"/orders/{order.id}/{secret.upper()}/",
        "unknown id": f"/orders/{other.id + 1000}/{secret}/",
    }[wrong]

    status, body = await get(client, path)

    assert status == 404
    assert "Taster session" not in body and "Sourdough loaf" not in body
    assert 'data-error-code="ORDER_NOT_FOUND"' in body


async def test_secrets_are_long_random_and_every_order_has_its_own(db: AsyncSession) -> None:
    orders = [await make_order(db) for _ in range(20)]

    secrets = {order.access_secret for order in orders}
    assert len(secrets) == 20
    assert all(re.fullmatch(r"[0-9a-f]{64}", secret) for secret in secrets)


async def test_the_owner_and_the_thank_you_page_show_the_link(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await paid_ticketed_order(db)
    await sign_in(app, client, 7)

    _, page = await get(client, f"/orders/{order.id}/")
    _, thanks = await get(client, f"/checkout/return/{order.id}/")

    for body in (page, thanks):
        link = re.search(r'id="order-link"[^>]*href="([^"]+)"', body)
        assert link is not None and link.group(1) == link_of(order)
        base = runtime(app).settings.public_base_url.rstrip("/")
        assert f"{base}{link_of(order)}" in body


async def test_a_guests_address_is_shown_to_the_owner_only(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=None, session_id="guest-cart", email="ann@example.org")
    await sign_in(app, client, 7)

    _, someone_else = await get(client, f"/orders/{order.id}/")
    _, by_link = await get(app.test_client(), link_of(order))

    assert "ann@example.org" not in someone_else
    # The link shows the order, not where its receipts go.
    assert "ann@example.org" not in by_link


@pytest.fixture
async def limited_app(app_config: dict[str, Any], clean_state: None) -> Any:
    application = create_app(
        {**app_config, "rate_limit_enabled": True, "rate_limit_order_links": "3/minute"}
    )
    async with application.test_app():
        yield application


async def test_guessing_at_links_is_rate_limited(limited_app: Quart, db: AsyncSession) -> None:
    order = await make_order(db)
    client = limited_app.test_client()

    answers = [
        (await client.get(f"/orders/{order.id}/{guess:064x}/")).status_code for guess in range(4)
    ]
    right = await client.get(link_of(order))

    assert answers == [404, 404, 404, 429]
    # Over the limit the right secret waits too: nothing tells a guesser which one it was.
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1


async def test_each_booking_and_event_comes_as_a_calendar_file_at_local_times(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await paid_ticketed_order(db)
    _, body = await get(client, link_of(order))
    keys = re.findall(r'href="' + re.escape(link_of(order)) + r'calendar/([a-z]+-\d+)\.ics"', body)
    assert len(keys) == 2 and keys[0].startswith("booking-") and keys[1].startswith("event-")

    files = {}
    for key in keys:
        response = await client.get(f"{link_of(order)}calendar/{key}.ics")
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        assert re.fullmatch(
            r'attachment; filename="[a-z0-9-]+-\d{4}-\d\d-\d\d\.ics"',
            response.headers["Content-Disposition"],
        )
        files[key] = Calendar.from_ical(await response.get_data())

    london = ZoneInfo("Europe/London")
    [booking] = files[keys[0]].walk("VEVENT")
    assert str(booking["SUMMARY"]) == "Taster session"
    start = booking.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/London"
    assert (start.hour, start.minute) == (18, 30) and start == SUMMER_START.astimezone(london)
    assert booking.decoded("DTEND") == SUMMER_START + timedelta(hours=2)
    domain = urlsplit(runtime(app).settings.public_base_url).hostname
    assert str(booking["UID"]) == f"{keys[0]}@{domain}"
    assert "BEGIN:VTIMEZONE" in files[keys[0]].to_ical().decode()

    [event] = files[keys[1]].walk("VEVENT")
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (19, 0) and str(start.tzinfo) == "Europe/London"
    assert str(event["SUMMARY"]) == "Folk night: Standard"
    description = str(event["DESCRIPTION"])
    for code in await ticket_codes(db, order):
        assert code in description
    assert link_of(order) in description

    # The same event again is the same calendar event: the UID does not change.
    again = Calendar.from_ical(
        await (await client.get(f"{link_of(order)}calendar/{keys[1]}.ics")).get_data()
    )
    assert str(again.walk("VEVENT")[0]["UID"]) == str(event["UID"])


async def test_an_unpaid_order_has_no_calendar_files(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await paid_ticketed_order(db)
    order.status = "pending"
    await db.commit()
    booking = await db.scalar(select(CalendarEntry).where(CalendarEntry.order_id == order.id))
    assert booking is not None

    _, body = await get(client, link_of(order))
    status, _ = await get(client, f"{link_of(order)}calendar/booking-{booking.id}.ics")

    assert ".ics" not in body
    assert status == 404


async def test_each_tickets_qr_code_reads_back_as_its_code(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await paid_ticketed_order(db)
    await sign_in(app, client, 7)

    for path in (f"/orders/{order.id}/", link_of(order)):
        _, body = await get(client, path)
        drawn = SVG.findall(body)
        assert sorted(code for code, _ in drawn) == await ticket_codes(db, order)
        for code, svg in drawn:
            assert read_svg_qr(svg) == [code]
            # Named for a screen reader, with no inline style for the CSP to refuse.
            assert 'role="img"' in svg and f"<title>QR code of ticket {code}</title>" in svg
            assert "style=" not in svg and "<script" not in svg
