"""The hot-path benchmark's shop loads as the benchmark addresses it, and the service agrees."""

from __future__ import annotations

from typing import Any

import asyncpg
from quart import Quart

from benchmarks.shop_data import HOME_LINES, Scale, load_shop
from tests.support.http import internal_headers, sign_in

TINY = Scale(
    users=20,
    pages=3,
    products_per_page=8,
    sessions=5,
    slots=4,
    front_row_capacity=2,
    past_orders_per_user=1,
)


async def test_each_browser_finds_its_five_lines_on_its_home_page(
    app: Quart, client: Any, database_url: str
) -> None:
    shop = await load_shop(database_url, TINY)
    reader = shop.readers[0]

    await sign_in(app, client, reader.user_id)
    page = await (await client.get(f"/{reader.home_slug}/")).get_data(as_text=True)

    assert len(reader.home_item_ids) == HOME_LINES
    for item_id in reader.home_item_ids:
        assert f'data-testid="line-{item_id}"' in page
    assert page.count('data-testid="line-total-') == HOME_LINES


async def test_readers_and_writers_are_different_users_with_carts(
    database_url: str, clean_state: None
) -> None:
    shop = await load_shop(database_url, TINY)

    readers = {owner.user_id for owner in shop.readers}
    writers = {owner.user_id for owner in shop.writers}

    assert len(readers) == len(writers) == TINY.sessions
    assert not readers & writers
    assert shop.event_slug not in {owner.home_slug for owner in shop.readers + shop.writers}
    assert len(shop.product_ids) == TINY.pages * TINY.products_per_page
    assert [t.capacity for t in shop.ticket_types][-1] == TINY.front_row_capacity


async def test_the_service_counts_the_loaded_cart_in_its_badge(
    app: Quart, client: Any, database_url: str
) -> None:
    shop = await load_shop(database_url, TINY)
    user_id = shop.writers[-1].user_id
    connection = await asyncpg.connect(database_url)
    try:
        units = await connection.fetchval(
            "SELECT sum(quantity) FROM cart_items WHERE user_id = $1", user_id
        )
        extras = await connection.fetchval(
            "SELECT (SELECT count(*) FROM calendar_entries WHERE user_id = $1) "
            "+ (SELECT count(*) FROM tickets WHERE user_id = $1)",
            user_id,
        )
        # Ids continue after the loaded ones: the service can insert beside them.
        await connection.execute("INSERT INTO pages (slug, title) VALUES ('new-page', 'New')")
    finally:
        await connection.close()

    response = await client.get(
        f"/internal/fragments/cart-mini?user_id={user_id}", headers=internal_headers(app)
    )

    assert f'data-count="{units + extras}"' in await response.get_data(as_text=True)
