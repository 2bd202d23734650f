"""The account and federation domains in databases of their own (seed 000's split): the account
reads come from DATABASE_URL_ACCOUNT, read-only, and the relay delivers to
DATABASE_URL_FEDERATION; neither database holds any of the cart's own tables."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from quart import Quart
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.cart.services.shopper import order_contact, shopper_contact
from bp.order.services.mail_relay import send_order_mail
from bp.runtime import runtime
from models import Order
from services.contracts.dtos import ShopperContact
from services.events import emit_event, relay_outbox
from services.mail import SmtpMailer
from tests.bp.order.services.test_mail_relay import paid_order
from tests.conftest import database_url_for, recreate_database
from tests.support.http import sign_in
from tests.support.mail import Inbox
from tests.support.processes import ROOT

ACCOUNT_DATABASE = "cart_test_account_domain"
FEDERATION_DATABASE = "cart_test_federation_domain"
CART_TABLES = {
    "cart_items",
    "orders",
    "order_items",
    "page_configs",
    "event_outbox",
    "sent_messages",
}


def migrate_shared_branch(name: str) -> None:
    """The other domain's database, with the coop's shared tables only (no cart table)."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "shared@head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url_for(name)},
        capture_output=True,
        check=True,
    )


async def fetch(name: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url_for(name))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def tables(name: str) -> set[str]:
    rows = await fetch(name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


@pytest.fixture(scope="module")
def domain_databases() -> Iterator[None]:
    for name in (ACCOUNT_DATABASE, FEDERATION_DATABASE):
        asyncio.run(recreate_database(name))
        migrate_shared_branch(name)
    yield


@pytest.fixture
def app_config(app_config: dict[str, Any], domain_databases: None) -> dict[str, Any]:
    return {
        **app_config,
        "database_url_account": database_url_for(ACCOUNT_DATABASE),
        "database_url_federation": database_url_for(FEDERATION_DATABASE),
    }


@pytest.fixture
async def account_user() -> AsyncIterator[None]:
    await fetch(ACCOUNT_DATABASE, "TRUNCATE users, ap_activities")
    await fetch(
        ACCOUNT_DATABASE,
        "INSERT INTO users (id, email, name) VALUES (7, 'ada@example.coop', 'Ada Lovelace')",
    )
    await fetch(FEDERATION_DATABASE, "TRUNCATE ap_activities")
    yield


async def test_the_other_databases_hold_none_of_the_carts_tables(domain_databases: None) -> None:
    for name in (ACCOUNT_DATABASE, FEDERATION_DATABASE):
        found = await tables(name)
        assert not found & CART_TABLES, name
        assert {"users", "ap_activities"} <= found


async def test_the_shoppers_name_comes_from_the_account_database(
    app: Quart, client: Any, account_user: None, database_url: str
) -> None:
    # Signed in by the account app, whose session carries no name this time.
    await sign_in(app, client, 7)

    html = await (await client.get("/")).get_data(as_text=True)

    assert "Ada Lovelace" in html
    # The cart's own database knows no such user.
    cart_db = database_url.rsplit("/", 1)[1]
    assert await fetch(cart_db, "SELECT id FROM users") == []


async def test_shopper_contact_is_read_only_through_the_account_engine(
    app: Quart, account_user: None
) -> None:
    serving = runtime(app)
    async with serving.databases.account_sessionmaker() as account:
        contact = await shopper_contact(account, user_id=7, domains=serving.domains)
        unknown = await shopper_contact(account, user_id=8, domains=serving.domains)
        order = Order(user_id=7, status="paid", currency="GBP", total_amount=0)
        for_order = await order_contact(account, order=order, domains=serving.domains)
        anonymous = await order_contact(
            account,
            order=Order(session_id="anon", status="paid", currency="GBP", total_amount=0),
            domains=serving.domains,
        )
    async with serving.databases.account_sessionmaker() as account:
        await serving.domains.account.shopper_contact(account, 7)
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await account.execute(text("UPDATE users SET name = 'changed' WHERE id = 7"))

    assert contact == ShopperContact(email="ada@example.coop", name="Ada Lovelace")
    assert for_order == contact
    assert unknown is None and anonymous is None
    [row] = await fetch(ACCOUNT_DATABASE, "SELECT name FROM users WHERE id = 7")
    assert row["name"] == "Ada Lovelace"


async def test_the_relay_delivers_to_the_federation_database(
    app: Quart, account_user: None, database_url: str
) -> None:
    serving = runtime(app)
    async with serving.databases.sessionmaker() as session:
        await emit_event(
            session,
            event_type="order.created",
            activity_type="Create",
            object_type="rose:Order",
            object_id="42",
            payload={"id": "42"},
            actor="http://cart.test",
        )
        await session.commit()

    result = await relay_outbox(
        sessionmaker=serving.databases.sessionmaker,
        federation_sessionmaker=serving.databases.federation_sessionmaker,
    )

    assert result.delivered == 1
    delivered = await fetch(FEDERATION_DATABASE, "SELECT activity_type FROM ap_activities")
    assert [row["activity_type"] for row in delivered] == ["Create"]
    cart_db = database_url.rsplit("/", 1)[1]
    assert await fetch(cart_db, "SELECT id FROM ap_activities") == []
    assert await fetch(ACCOUNT_DATABASE, "SELECT id FROM ap_activities") == []


def test_without_the_account_domain_nobody_is_named(app_config: dict[str, Any]) -> None:
    application = create_app({**app_config, "domains": ["blog", "market", "events", "cart"]})
    assert type(runtime(application).domains.account).__name__ == "StubAccountService"


async def test_the_order_mail_goes_to_the_address_in_the_account_database(
    app: Quart, db: AsyncSession, account_user: None, smtp_inbox: Inbox
) -> None:
    serving = runtime(app)
    order = await paid_order(app, db, user_id=7)
    mailer = SmtpMailer(**mail_settings_for(smtp_inbox))

    result = await send_order_mail(
        databases=serving.databases,
        settings=serving.settings,
        mailer=mailer,
        domains=serving.domains,
    )

    assert result.sent == 1
    [mail] = smtp_inbox.received
    assert mail.rcpt_tos == ["ada@example.coop"]
    assert mail.subject == f"Order #{order.id} is paid: thank you"
    assert "Hello Ada Lovelace," in mail.part("plain")


def mail_settings_for(inbox: Inbox) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": inbox.port,
        "starttls": False,
        "username": None,
        "password": None,
        "timeout_seconds": 5.0,
    }
