"""The hot pages are rendered from data fetched first: no template of theirs runs in Jinja's
async mode, so none has a coroutine left to call, and what they show is unchanged."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from quart import Quart
from quart.signals import template_rendered
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bp.cart.helpers import badge_counts, htmx, text
from tests.support import factories as f
from tests.support.http import csrf_token, sign_in


@asynccontextmanager
async def rendered(app: Quart) -> AsyncIterator[dict[str, bool]]:
    """Template name → whether it was rendered in async mode, while the block runs."""
    seen: dict[str, bool] = {}

    async def record(sender: Quart, template: Any, context: Any, **_: Any) -> None:
        seen[str(template.name)] = bool(template.environment.is_async)

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


async def shop(db: AsyncSession) -> dict[str, Any]:
    """User 1: two loaves, a booking and a ticket on the bakery page, and a paid order."""
    bakery = await f.page(db, "bakery", "The Bakery")
    loaf = await f.product(db, bakery, "Sourdough loaf", "4.50")
    scone = await f.product(db, bakery, "Scone", "2.00")
    line = await f.cart_item(db, loaf, user_id=1, quantity=2)
    calendar = await f.calendar(db, bakery)
    await f.booking(db, calendar, user_id=1, cost="12.00")
    event = await f.event(db, calendar, "Bread night")
    await f.ticket(db, await f.ticket_type(db, event, "Standard", cost="8.00"), user_id=1)
    await f.order(db, user_id=1, status="paid", page_id=bakery.id)
    return {"line": line, "scone": scone}


async def test_hot_pages_render_without_async_templates(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    made = await shop(db)
    await sign_in(app, client, 1, user_name="Alice")
    line_id, scone_id = made["line"].id, made["scone"].id
    token = csrf_token(app, client)

    async with rendered(app) as seen:
        page = await text(await client.get("/bakery/"))
        overview = await text(await client.get("/"))
        orders = await text(await client.get("/orders/"))
        orders_list = await text(await client.get("/orders/", headers={"HX-Request": "true"}))
        badge = await text(await client.get("/internal/fragments/cart-mini"))
        added = await text(
            await client.post(
                f"/add/{scone_id}/",
                form={"quantity": "1", "csrf_token": token},
                headers=htmx(app, client),
            )
        )
        changed = await text(
            await client.post(
                f"/items/{line_id}/quantity/",
                form={"quantity": "3", "view": "bakery", "csrf_token": token},
                headers=htmx(app, client),
            )
        )

    assert seen == {
        "cart/page.html": False,
        "cart/overview.html": False,
        "orders/index.html": False,
        "orders/_list.html": False,
        "cart/_added.html": False,
        "cart/_changed.html": False,
    }
    # What the pages show, from values fetched first: the name, the badge, the lines.
    assert "Alice" in page and "Alice" in overview and "Alice" in orders
    assert badge_counts(page) == badge_counts(overview) == badge_counts(orders) == [4]
    assert badge_counts(badge) == [4]
    assert 'data-testid="line-total-' in page and "£9.00" in page
    assert 'data-testid="group-bakery"' in overview
    assert "Paid" in orders_list and "<html" not in orders_list
    # The add's answer carries the badge out of band, and the change its re-rendered cart.
    assert badge_counts(added) == [5] and 'hx-swap-oob="true"' in added
    assert badge_counts(changed) == [6] and "£13.50" in changed
    assert len(set(re.findall(r'name="csrf_token" value="([0-9a-f]+)"', page))) == 1
