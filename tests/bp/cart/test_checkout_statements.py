"""A checkout costs a bounded number of SQL statements, however many lines, bookings and tickets
its cart holds; so does the settlement of its payment."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from tests.support import factories as f
from tests.support.checkout import (
    SITE_MERCHANT,
    all_orders,
    payments_config,
    post_checkout,
    post_webhook,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl
from tests.support.statements import compiled_afresh, counting

# The bound for one checkout POST (the SumUp call included), whatever the cart holds.
CHECKOUT_STATEMENTS = 15
# The settlement of a paid order by SumUp's webhook, whatever the order holds: the order and
# its merchant, then per kind (bookings, tickets) its slots or types locked, counted and
# confirmed, the cart lines bought, the event (see benchmarks/RESULTS.md). The order is
# locked and read with its lines in one statement (it was two through the ORM), and its
# merchant's settings read in one (it was two).
SETTLEMENT_STATEMENTS = 20


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def fill(db: AsyncSession, *, user_id: int, size: int, bookings: bool = True) -> str:
    """A page with `size` product lines, `size` slot bookings (unless not `bookings`) and
    `size` tickets of several types (capacities everywhere, so that every check runs); answers
    the page's slug."""
    slug = f"bakery-{size}-{user_id}"
    page = await f.page(db, slug)
    calendar = await f.calendar(db, page)
    event = await f.event(db, calendar)
    types = [await f.ticket_type(db, event, f"Type {n}", capacity=100) for n in range(3)]
    for n in range(size):
        await f.cart_item(db, await f.product(db, page, f"Loaf {n}"), user_id=user_id)
        slot = await f.slot(db, calendar, capacity=10, days_ahead=1 + n % 4, name=f"Class {n}")
        if bookings:
            await f.slot_booking(db, slot, user_id=user_id)
        await f.ticket(db, types[n % len(types)], user_id=user_id)
    return slug


async def checkout(app: Quart, db: AsyncSession, *, user_id: int, size: int) -> list[str]:
    """One shopper's checkout of a page of `size` lines, bookings and tickets: its statements."""
    slug = await fill(db, user_id=user_id, size=size)
    client = app.test_client()
    await sign_in(app, client, user_id)
    with counting(app) as statements:
        response = await post_checkout(app, client, slug)
    assert response.status_code == 303, await response.get_data(as_text=True)
    return statements


async def test_a_checkout_costs_the_same_few_statements_however_full_the_cart(
    app: Quart, db: AsyncSession
) -> None:
    one = await checkout(app, db, user_id=1, size=1)
    twenty = await checkout(app, db, user_id=2, size=20)

    orders = {order.user_id: order for order in await all_orders(db)}
    assert orders[1].merchant_code == orders[2].merchant_code == SITE_MERCHANT
    assert len(one) <= CHECKOUT_STATEMENTS, "\n".join(one)
    assert len(twenty) <= CHECKOUT_STATEMENTS, "\n".join(twenty)
    assert len(one) == len(twenty), "\n".join(twenty)


async def test_settling_a_paid_order_costs_the_same_few_statements_however_full(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    counts = []
    for user_id, size in ((1, 1), (2, 20)):
        await checkout(app, db, user_id=user_id, size=size)
        order = next(o for o in await all_orders(db) if o.user_id == user_id)
        await sumup_standin_control.pay(str(order.sumup_checkout_id))
        with counting(app) as statements:
            response = await post_webhook(app, order)
        assert response.status_code == 204
        settled = await db.get(Order, order.id, populate_existing=True)
        assert settled is not None and settled.status == "paid"
        counts.append(statements)

    one, twenty = counts
    assert len(one) <= SETTLEMENT_STATEMENTS, "\n".join(one)
    assert len(twenty) == len(one), "\n".join(twenty)


# The paid return page, whatever the order holds: the order with its lines, its bookings'
# count, its tickets (their codes are shown), and the badge. It was 5 with the order read
# through the ORM (the order, its lines, its bookings, its tickets, the badge).
RETURN_PAGE_STATEMENTS = 4


async def test_the_paid_return_page_reads_the_order_with_its_lines_in_one_statement(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    slug = await fill(db, user_id=1, size=3)
    client = app.test_client()
    await sign_in(app, client, 1)
    assert (await post_checkout(app, client, slug)).status_code == 303
    order = next(iter(await all_orders(db)))
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    # The first visit settles the order; the next ones read it paid.
    first = await client.get(f"/checkout/return/{order.id}/")
    assert first.status_code == 200

    with counting(app) as statements:
        response = await client.get(f"/checkout/return/{order.id}/")

    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-state="paid"' in page
    assert page.count('data-testid="summary-ticket-group"') == 3
    assert "Your 3 bookings and 3 tickets are confirmed." in page
    assert len(statements) <= RETURN_PAGE_STATEMENTS, "\n".join(statements)


async def test_a_checkout_its_settlement_and_return_page_are_compiled_once_for_every_shopper(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    # SQLAlchemy compiles a statement at its first run and finds it compiled afterwards, unless
    # its text depends on its values (literal rows, say): that one it compiles at every run.
    afresh = []
    for user_id, size in ((1, 1), (2, 3)):
        slug = await fill(db, user_id=user_id, size=size)
        client = app.test_client()
        await sign_in(app, client, user_id)
        with compiled_afresh(app) as statements:
            assert (await post_checkout(app, client, slug)).status_code == 303
            order = next(o for o in await all_orders(db) if o.user_id == user_id)
            await sumup_standin_control.pay(str(order.sumup_checkout_id))
            assert (await post_webhook(app, order)).status_code == 204
            response = await client.get(f"/checkout/return/{order.id}/")
        assert 'data-state="paid"' in await response.get_data(as_text=True)
        afresh.append(statements)

    first, second = afresh
    assert first, "the first shopper's statements were compiled at their first run"
    assert second == [], "\n".join(second)
