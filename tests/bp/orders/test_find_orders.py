""" "Find my orders": the same answer for an address with orders and one without, one mail (over
real SMTP) with the links to every order of the known address and none for the unknown, one
mail for a double click, and limits per client and per address."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.order.services.mail_relay import send_order_mail
from bp.order.services.order_lookup import request_order_links
from bp.runtime import runtime
from lib.db import Databases, open_databases
from models import Order, SentMessage
from tests.bp.order.test_routes import make_order
from tests.support.checkout import payments_config, text
from tests.support.http import csrf_token
from tests.support.mail import Inbox, mail_settings

KNOWN, UNKNOWN = "ann@example.org", "nobody@example.org"
LINK = re.compile(r"https?://[^\s\"<>]+/orders/(\d+)/([0-9a-f]{64})/")


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, smtp_inbox: Inbox) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, **mail_settings(smtp_inbox))


async def ask(app: Quart, client: Any, email: str) -> Any:
    """Send the find-my-orders form as a browser does."""
    return await client.post(
        "/orders/find/", form={"csrf_token": csrf_token(app, client), "email": email}
    )


async def send(app: Quart) -> Any:
    serving = runtime(app)
    return await send_order_mail(
        databases=serving.databases,
        settings=serving.settings,
        mailer=serving.mailer,
        domains=serving.domains,
    )


async def guest_orders(db: AsyncSession) -> tuple[list[Order], Order]:
    mine = [
        await make_order(db, user_id=None, session_id=f"cart-{n}", email=KNOWN, status="paid")
        for n in range(2)
    ]
    theirs = await make_order(db, user_id=None, session_id="cart-9", email="eve@example.org")
    return mine, theirs


async def test_the_page_asks_for_an_address(app: Quart, client: Any) -> None:
    body = await text(await client.get("/orders/find/"))

    field = re.search(r'<input id="find-email"[^>]*>', body)
    assert field is not None
    assert 'type="email"' in field.group(0) and 'autocomplete="email"' in field.group(0)
    assert '<label for="find-email"' in body


async def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_a_mail(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    mine, theirs = await guest_orders(db)
    answers = []
    for email in (KNOWN, UNKNOWN):
        client = app.test_client()
        response = await ask(app, client, email)
        page = await client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], await text(page)))

    known, unknown = answers
    assert known[:2] == unknown[:2] == (303, "/orders/find/?sent=1")
    # The pages differ only in their CSRF tokens.
    token = re.compile(r"[0-9a-f]{64}")
    assert token.sub("", known[2]) == token.sub("", unknown[2])
    assert "If there are orders for that address" in known[2]

    await send(app)
    await send(app)

    [mail] = smtp_inbox.received
    assert mail.rcpt_tos == [KNOWN]
    for part in (mail.part("plain"), mail.part("html")):
        links = {(int(m.group(1)), m.group(2)) for m in LINK.finditer(part)}
        assert links == {(o.id, o.access_secret) for o in mine}
        assert theirs.access_secret not in part


async def test_a_double_click_sends_one_mail_and_case_does_not_matter(
    app: Quart, client: Any, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await guest_orders(db)

    await ask(app, client, KNOWN)
    await ask(app, client, "Ann@EXAMPLE.org")
    await send(app)

    assert len(smtp_inbox.received) == 1


async def test_a_malformed_address_is_refused_and_nothing_is_sent(
    app: Quart, client: Any, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await guest_orders(db)

    response = await ask(app, client, "ann.example.org")
    await send(app)

    assert response.status_code == 400
    assert "That is not an email address" in await text(response)
    assert smtp_inbox.received == []


def limited(app_config: dict[str, Any], **limits: str) -> Quart:
    return create_app({**app_config, "rate_limit_enabled": True, **limits})


async def test_requests_are_limited_per_address_whoever_asks(
    app_config: dict[str, Any], clean_state: None, db: AsyncSession
) -> None:
    app = limited(
        app_config,
        rate_limit_order_lookups="100/minute",
        rate_limit_order_lookups_per_address="2/hour",
    )
    async with app.test_app():
        statuses = [(await ask(app, app.test_client(), KNOWN)).status_code for _ in range(3)]
        other = await ask(app, app.test_client(), UNKNOWN)

    assert statuses == [303, 303, 429]
    assert other.status_code == 303


async def test_requests_are_limited_per_client_whatever_the_address(
    app_config: dict[str, Any], clean_state: None, db: AsyncSession
) -> None:
    app = limited(
        app_config,
        rate_limit_order_lookups="2/minute",
        rate_limit_order_lookups_per_address="100/hour",
    )
    async with app.test_app():
        client = app.test_client()
        statuses = [(await ask(app, client, f"n{n}@example.org")).status_code for n in range(3)]

    assert statuses == [303, 303, 429]


async def test_requests_racing_on_several_connections_plan_one_mail(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await guest_orders(db)
    settings = runtime(app).settings
    # Each request on its own engine: its own connections, as on several workers.
    engines = [open_databases(settings) for _ in range(4)]
    now = datetime.now(UTC)

    async def request(databases: Databases) -> None:
        async with databases.sessionmaker() as session:
            await request_order_links(session, email=KNOWN, now=now)

    try:
        await asyncio.gather(*(request(databases) for databases in engines * 2))
    finally:
        for databases in engines:
            await databases.dispose()
    await send(app)

    planned = list(await db.scalars(select(SentMessage).where(SentMessage.kind == "order_links")))
    assert len(planned) == 1 and planned[0].status == "sent"
    assert len(smtp_inbox.received) == 1
