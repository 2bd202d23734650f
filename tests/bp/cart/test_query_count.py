"""The page cart and the cart-mini cost a fixed number of statements, however full the cart."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from tests.bp.cart.helpers import anonymous_cart, htmx
from tests.support import factories as f
from tests.support.http import internal_headers, sign_in
from tests.support.statements import counting, session_transactions, transactions_begun

# Page cart: the page by slug with the lines and their products, the bookings, the tickets and
# the shopper's orders waiting for payment with what they hold, all in one statement (the
# domains sharing the database); the cart-mini's summary is counted from what it read.
PAGE_CART_STATEMENTS = 1
# Overview: the whole cart with the shopper's orders waiting for payment and the pages it is
# on, in one statement (the cart-mini's summary counted from it).
OVERVIEW_STATEMENTS = 1
# The header's name from the account domain, when the shared session carries none.
ACCOUNT_NAME_STATEMENTS = 1
# The cart-mini: one statement with products, bookings and tickets.
CART_MINI_STATEMENTS = 1
# An HTMX add: the product with the line it made or added to, and the badge after it.
ADD_STATEMENTS = 1


async def fill(db: AsyncSession, *, user_id: int, size: int) -> None:
    """`size` lines, bookings and tickets on the bakery page."""
    page = await f.page(db, f"bakery-{size}")
    cal = await f.calendar(db, page)
    event_entry = await f.event(db, cal)
    for n in range(size):
        await f.cart_item(db, await f.product(db, page, f"Loaf {n}"), user_id=user_id)
        await f.booking(db, cal, user_id=user_id)
        await f.ticket(db, await f.ticket_type(db, event_entry, f"Type {n}"), user_id=user_id)


async def test_page_cart_statements_do_not_grow_with_the_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await fill(db, user_id=1, size=1)
    await fill(db, user_id=2, size=20)
    small, large = app.test_client(), app.test_client()
    # Signed in as the account app signs shoppers in: the session names them.
    await sign_in(app, small, 1, user_name="Alice")
    await sign_in(app, large, 2, user_name="Ben")

    with counting(app) as one:
        first = await small.get("/bakery-1/")
    with counting(app) as twenty:
        second = await large.get("/bakery-20/")

    assert first.status_code == second.status_code == 200
    assert (await second.get_data(as_text=True)).count('data-testid="line-') >= 20
    assert len(one) == len(twenty) == PAGE_CART_STATEMENTS

    # A session without a name costs one read of the account domain, however full the cart.
    await sign_in(app, small, 1)
    await sign_in(app, large, 2)
    with counting(app) as one:
        await small.get("/bakery-1/")
    with counting(app) as twenty:
        await large.get("/bakery-20/")
    assert len(one) == len(twenty) == PAGE_CART_STATEMENTS + ACCOUNT_NAME_STATEMENTS

    # The name is kept for a while: the shopper's next pages do not read it again.
    with counting(app) as again:
        page = await small.get("/bakery-1/")
    assert len(again) == PAGE_CART_STATEMENTS
    assert page.status_code == 200


async def test_the_name_a_page_reads_from_the_account_domain_is_one_statement_alone(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await fill(db, user_id=1, size=1)
    await f.user(db, 1, name="Ada Lovelace")
    # Signed in by the account app, whose session carries no name this time.
    await sign_in(app, client, 1)

    with counting(app) as statements, transactions_begun(app) as begun:
        page = await client.get("/bakery-1/")

    assert page.status_code == 200
    assert "Ada Lovelace" in await page.get_data(as_text=True)
    assert len(statements) == PAGE_CART_STATEMENTS + ACCOUNT_NAME_STATEMENTS
    # Neither the page's statement nor the name's opens a transaction: each runs alone, in
    # autocommit (a read-only transaction around the name was three round trips).
    assert begun == []


async def test_overview_statements_do_not_grow_with_the_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await fill(db, user_id=1, size=1)
    await fill(db, user_id=2, size=20)
    small, large = app.test_client(), app.test_client()
    await sign_in(app, small, 1)
    await sign_in(app, large, 2)

    with counting(app) as one:
        await small.get("/")
    with counting(app) as twenty:
        await large.get("/")

    # Sessions without a name: each shopper's first page reads it from the account domain.
    assert len(one) == len(twenty) == OVERVIEW_STATEMENTS + ACCOUNT_NAME_STATEMENTS


async def test_cart_mini_is_one_statement(app: Quart, client: Any, db: AsyncSession) -> None:
    await fill(db, user_id=2, size=20)

    with counting(app) as statements:
        response = await client.get(
            "/internal/fragments/cart-mini?user_id=2", headers=internal_headers(app)
        )

    assert 'aria-label="Cart, 60 items"' in await response.get_data(as_text=True)
    assert len(statements) == CART_MINI_STATEMENTS


async def test_cart_mini_of_a_browser_without_a_cart_costs_nothing(app: Quart, client: Any) -> None:
    with counting(app) as statements:
        response = await client.get("/internal/fragments/cart-mini")

    assert 'aria-label="Cart, 0 items"' in await response.get_data(as_text=True)
    assert statements == []


async def test_an_add_and_its_badge_are_one_statement(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db), title="Sourdough loaf")
    await anonymous_cart(app, client)

    with counting(app) as statements:
        response = await client.post(
            f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": "2"}
        )

    assert "Added 2 of Sourdough loaf to your cart." in await response.get_data(as_text=True)
    # The product read with the line it made and the badge.
    assert len(statements) == ADD_STATEMENTS, "\n".join(statements)


async def test_an_add_and_a_quantity_change_begin_no_transaction_to_commit(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await fill(db, user_id=1, size=2)
    product = await f.product(db, await f.page(db, "pantry"), title="Seeded rye")
    await sign_in(app, client, 1)
    [item_id] = (
        await db.execute(text("SELECT id FROM cart_items WHERE user_id = 1 ORDER BY id LIMIT 1"))
    ).scalars()

    with session_transactions() as made, transactions_begun(app) as begun:
        added = await client.post(
            f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": "2"}
        )
        changed = await client.post(
            f"/items/{item_id}/quantity/",
            headers=htmx(app, client),
            form={"quantity": "5", "view": "bakery-2"},
        )

    assert "Added 2 of Seeded rye to your cart." in await added.get_data(as_text=True)
    assert "Loaf 0: quantity is now 5." in await changed.get_data(as_text=True)
    # Each change is one statement alone, in autocommit: neither a BEGIN sent nor an empty
    # transaction made in the request's session only for its commit.
    assert begun == [] and made == []
    quantities = await db.execute(
        text("SELECT id, product_id, quantity FROM cart_items WHERE user_id = 1")
    )
    by_line = {line: (product_id, quantity) for line, product_id, quantity in quantities}
    assert by_line[item_id][1] == 5
    assert [q for p, q in by_line.values() if p == product.id] == [2]


def badge_count(html: str) -> int | None:
    found = re.search(r'id="cart-mini"[^>]*data-count="(\d+)"', html)
    return int(found.group(1)) if found is not None else None


async def test_the_badge_an_add_reads_is_the_cart_after_it(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    loaf, jam = await f.product(db, page, "Loaf", "3.10"), await f.product(db, page, "Jam")
    cal = await f.calendar(db, page)
    await f.booking(db, cal, user_id=3)
    await f.ticket(db, await f.ticket_type(db, await f.event(db, cal)), user_id=3)
    await f.cart_item(db, jam, user_id=3, quantity=2)
    await db.commit()
    await sign_in(app, client, 3, user_name="Cleo")
    limit = runtime(app).settings.max_line_quantity
    seen = []

    # A new line, the same line again, another product's line, and an add the limit refuses.
    for product, quantity in ((loaf, 2), (loaf, 1), (jam, 4), (loaf, limit)):
        answer = await client.post(
            f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": str(quantity)}
        )
        alone = await client.get("/internal/fragments/cart-mini")
        seen.append(
            (
                badge_count(await answer.get_data(as_text=True)),
                badge_count(await alone.get_data(as_text=True)),
            )
        )
    summary = await client.get("/internal/cart/summary?user_id=3", headers=internal_headers(app))

    # 2 jars, a booking and a ticket; then 2, 1 and 4 more; the refused add shows the field's
    # problem and leaves the cart as it was.
    assert seen == [(6, 6), (7, 7), (11, 11), (None, 11)]
    assert (await summary.get_json())["total"] == f"{3 * 3.10 + 6 * 4.50:.2f}"


async def test_a_quantity_change_reads_its_product_with_the_change(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await fill(db, user_id=1, size=3)
    await sign_in(app, client, 1, user_name="Alice")
    [item_id] = (
        await db.execute(text("SELECT id FROM cart_items WHERE user_id = 1 ORDER BY id LIMIT 1"))
    ).scalars()

    with counting(app) as statements:
        response = await client.post(
            f"/items/{item_id}/quantity/",
            headers=htmx(app, client),
            form={"quantity": "4", "view": "bakery-3"},
        )

    assert "Loaf 0" in await response.get_data(as_text=True)
    # The change with its product, then the page cart as it is now.
    assert len(statements) == 1 + PAGE_CART_STATEMENTS, "\n".join(statements)
