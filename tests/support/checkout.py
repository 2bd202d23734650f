"""Checkout and payment tests: a shop to check out, the app served over HTTP, and looks at the data.

The SumUp side is always the stand-in process (tests.support.standin) over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from models import (
    CalendarEntry,
    CartItem,
    FederationActivity,
    Order,
    OutboxEvent,
    Page,
    Product,
    Ticket,
    TicketType,
)
from tests.support import factories as f
from tests.support.http import TEST_HOST, csrf_token, settings_of, sign_in, write_shared_session
from tests.support.standin import HOST

SITE_MERCHANT = "MTEST001"
SITE_KEY = "sup_sk_test"
HOSTED_URL = re.compile(r"^http://127\.0\.0\.1:\d+/pay/c-[0-9a-f-]{36}$")


def payments_config(app_config: dict[str, Any], standin_url: str, **extra: Any) -> dict[str, Any]:
    """The app under test paying through the stand-in; retries fast, SumUp timeouts short."""
    return {
        **app_config,
        "sumup_api_base": standin_url,
        "sumup_timeout_seconds": 2.0,
        "sumup_retry_backoff_seconds": 0.01,
        # Nothing listens there: the stand-in's webhooks fail fast unless a test serves the app.
        "public_base_url": "http://127.0.0.1:9",
        **extra,
    }


@dataclass
class Shop:
    """Two pages: the bakery (products, a booking, an event ticket) and the garden (a product)."""

    bakery: Page
    garden: Page
    loaf: Product
    rye: Product
    compost: Product
    booking: CalendarEntry
    ticket_type: TicketType
    ticket: Ticket | None


# What the bakery cart costs: 2 x 4.50 + 3.80 + booking 12.00 + ticket 12.00.
BAKERY_TOTAL = "36.80"
BAKERY_TOTAL_ANONYMOUS = "24.80"  # no ticket without signing in


async def shop_with_cart(
    db: AsyncSession,
    *,
    user_id: int | None = None,
    session_id: str | None = None,
    ticket_capacity: int | None = 50,
) -> Shop:
    """The shop, with the shopper's cart: bakery lines, a booking, a ticket; a garden line."""
    owner: dict[str, Any] = {"user_id": user_id} if user_id else {"session_id": session_id}
    bakery = await f.page(db, "bakery", "The Bakery")
    garden = await f.page(db, "garden", "Garden Club")
    loaf = await f.product(db, bakery, "Sourdough loaf", "4.50")
    rye = await f.product(db, bakery, "Seeded rye", "3.80")
    compost = await f.product(db, garden, "Compost", "7.99")
    await f.cart_item(db, loaf, quantity=2, **owner)
    await f.cart_item(db, rye, **owner)
    await f.cart_item(db, compost, **owner)
    calendar = await f.calendar(db, bakery, "Baking classes")
    booking = await f.booking(db, calendar, cost="12.00", name="Bread class", **owner)
    event = await f.event(db, calendar, "Harvest supper")
    ticket_type = await f.ticket_type(db, event, "Standard", cost="12.00", capacity=ticket_capacity)
    ticket = await f.ticket(db, ticket_type, user_id=user_id) if user_id else None
    return Shop(bakery, garden, loaf, rye, compost, booking, ticket_type, ticket)


# The address a guest gives at checkout in these tests.
GUEST_EMAIL = "guest@example.org"


async def anonymous_shopper(app: Quart, client: Any, sid: str = "anon-checkout-1") -> str:
    """Give the client a shared session holding an anonymous cart id; returns the cart id."""
    session_id = await write_shared_session(app, {"cart_sid": sid})
    client.set_cookie(TEST_HOST, settings_of(app).session_cookie_name, session_id)
    return sid


async def post_checkout(
    app: Quart,
    client: Any,
    slug: str | None = "bakery",
    *,
    htmx: bool = False,
    email: str | None = GUEST_EMAIL,
) -> Any:
    """POST the checkout form of a page (or of the whole cart) as a browser sends it; a guest's
    form carries `email` (a signed-in shopper's has no such field, and the cart ignores it)."""
    path = f"/{slug}/checkout/" if slug else "/checkout/"
    token = csrf_token(app, client)
    form = {"email": email} if email is not None else {}
    if htmx:
        return await client.post(
            path, form=form, headers={"HX-Request": "true", "X-CSRF-Token": token}
        )
    return await client.post(path, form={"csrf_token": token, **form})


async def checked_out_signed_in(
    app: Quart, client: Any, db: AsyncSession, user_id: int = 7
) -> Shop:
    """The shop, user `user_id` signed in, and the bakery checked out (its order waiting)."""
    shop = await shop_with_cart(db, user_id=user_id)
    await sign_in(app, client, user_id)
    response = await post_checkout(app, client, "bakery")
    assert response.status_code == 303, await text(response)
    return shop


async def post_form(app: Quart, client: Any, path: str, *, htmx: bool = False) -> Any:
    """POST a shopper form (pay again, check again) with its CSRF token."""
    token = csrf_token(app, client)
    if htmx:
        return await client.post(path, headers={"HX-Request": "true", "X-CSRF-Token": token})
    return await client.post(path, form={"csrf_token": token})


async def text(response: Any) -> str:
    return str(await response.get_data(as_text=True))


async def fresh(db: AsyncSession, model: type[Any], row_id: int) -> Any:
    """A row as the database has it now."""
    return await db.get(model, row_id, populate_existing=True)


async def post_webhook(app: Quart, order: Order) -> Any:
    """SumUp's webhook for the order's checkout, as SumUp sends it."""
    body = json.dumps({"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id})
    return await app.test_client().post(
        f"/checkout/webhook/{order.id}/", data=body, headers={"Content-Type": "application/json"}
    )


async def only_order(db: AsyncSession) -> Order:
    """The one order there must be."""
    orders = list(await db.scalars(select(Order).execution_options(populate_existing=True)))
    assert len(orders) == 1, [(o.id, o.status) for o in orders]
    return orders[0]


async def all_orders(db: AsyncSession) -> list[Order]:
    return list(
        await db.scalars(select(Order).order_by(Order.id).execution_options(populate_existing=True))
    )


async def events_of(db: AsyncSession, event_type: str, order_id: int | None = None) -> list[Any]:
    """Outbox rows of one type (for one order)."""
    statement = select(OutboxEvent).where(OutboxEvent.event_type == event_type)
    if order_id is not None:
        statement = statement.where(OutboxEvent.object_id == str(order_id))
    return list(await db.scalars(statement.execution_options(populate_existing=True)))


async def federation_count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(FederationActivity)) or 0)


async def live_lines(db: AsyncSession, **owner: Any) -> dict[int, int]:
    """product_id → quantity of an owner's live cart lines."""
    column, value = next(iter(owner.items()))
    rows = await db.execute(
        select(CartItem.product_id, CartItem.quantity).where(
            getattr(CartItem, column) == value, CartItem.deleted_at.is_(None)
        )
    )
    return {product_id: quantity for product_id, quantity in rows}


async def state_of(db: AsyncSession, model: type[Any], row_id: int) -> str:
    return str(await db.scalar(select(model.state).where(model.id == row_id)))


async def pay_on_hosted_page(hosted_url: str) -> str:
    """Pay as the shopper does on SumUp's page; answers the success page's HTML."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(hosted_url)
        assert page.status_code == 200, page.text
        assert 'id="pay"' in page.text
        done = await browser.post(f"{hosted_url}/pay")
        assert done.status_code == 200, done.text
        return done.text


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, seconds: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def payment_deps(app: Quart) -> dict[str, Any]:
    """What a payment service function takes besides its session: the serving app's settings,
    SumUp gateway and domain services."""
    serving = runtime(app)
    return {"settings": serving.settings, "gateway": serving.gateway, "domains": serving.domains}


def reconciler_deps(app: Quart) -> dict[str, Any]:
    """What a reconciler pass takes: the serving app's databases, and the payment ones."""
    return {"databases": runtime(app).databases, **payment_deps(app)}


def _lifespan_done(app: Quart) -> Callable[..., Awaitable[None]]:
    """The app as an ASGI callable whose lifespan is already handled by the `app` fixture."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await app(scope, receive, send)  # type: ignore[arg-type]

    return asgi


@asynccontextmanager
async def served(app: Quart, port: int) -> AsyncIterator[str]:
    """Serve the (already started) app with Hypercorn on 127.0.0.1:port; yields its base URL."""
    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.graceful_timeout = 1.0
    shutdown = asyncio.Event()
    task = asyncio.create_task(serve(_lifespan_done(app), config, shutdown_trigger=shutdown.wait))
    base_url = f"http://{HOST}:{port}"
    async with httpx.AsyncClient(timeout=1.0) as probe:
        deadline = time.monotonic() + 10
        while True:
            try:
                await probe.get(f"{base_url}/healthz")
                break
            except httpx.TransportError:
                if task.done() or time.monotonic() > deadline:
                    task.result()
                    raise
                await asyncio.sleep(0.05)
    try:
        yield base_url
    finally:
        shutdown.set()
        await asyncio.wait_for(task, 10)
