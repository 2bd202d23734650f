"""A hot path's statement (lib/db.Query) carries its own literals in its text and binds only the
caller's values, so that PostgreSQL plans it once per connection rather than at every run."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from quart import Quart
from sqlalchemy import ARRAY, Integer, Numeric, String, any_, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import Query
from models import CartItem
from services.sql.cart_impl import PAGE_CART, SUMMARY, WHOLE_CART
from tests.support import factories

# PostgreSQL tries a plan made with each run's values for the first five runs of a prepared
# statement, then keeps one plan for all values if it judges it no worse.
CUSTOM_PLANS_TRIED = 5


def test_the_statements_literals_are_written_and_the_callers_values_bound() -> None:
    statement = select(
        literal("O'Brien", String),
        literal(Decimal("0.00"), Numeric(10, 2)),
        literal(-3, Integer),
        literal(["pending", "failed"], ARRAY(String)),
        CartItem.id,
    ).where(
        CartItem.user_id == bindparam("owner_user_id"),
        CartItem.quantity > bindparam("least", value=0),
    )

    query = Query(statement)

    assert query.names == ("owner_user_id", "least")
    assert "'O''Brien'::VARCHAR" in query.sql
    assert "(0.00)::NUMERIC" in query.sql
    assert "(-3)::INTEGER" in query.sql
    assert "ARRAY['pending','failed']::VARCHAR[]" in query.sql
    assert "$1::BIGINT" in query.sql
    assert "$2::INTEGER" in query.sql
    assert "$3" not in query.sql
    # A named value the statement carries is still the caller's to give.
    assert query.arguments({"owner_user_id": 7}) == [7, 0]
    assert query.arguments({"owner_user_id": 7, "least": 2}) == [7, 2]


def test_a_literal_it_cannot_spell_safely_stays_a_parameter() -> None:
    statement = select(literal("C:\\carts", String), literal("a\x00b", String)).where(
        CartItem.session_id == any_(literal(["x\\y"], ARRAY(String)))
    )

    query = Query(statement)

    assert len(query.names) == 3
    assert "\\" not in query.sql
    assert query.arguments(None) == ["C:\\carts", "a\x00b", ["x\\y"]]


async def test_the_written_statement_reads_what_the_bound_one_read(
    app: Quart, db: AsyncSession, database_url: str
) -> None:
    page = await factories.page(db, "o-brien's")
    loaf = await factories.product(db, page, "Loaf", "4.50")
    await factories.cart_item(db, loaf, user_id=3, quantity=2)
    await db.commit()
    statement = select(literal("O'Brien", String), literal(Decimal("0.00"), Numeric(10, 2)))
    statement = statement.add_columns(CartItem.quantity).where(
        CartItem.user_id == bindparam("owner_user_id"), CartItem.deleted_at.is_(None)
    )

    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(Query(statement).sql, 3)
    finally:
        await connection.close()

    assert [tuple(row) for row in rows] == [("O'Brien", Decimal("0.00"), 2)]


PAID_HISTORY = """
INSERT INTO orders (user_id, page_id, status, currency, total_amount, description, attempt,
                    sumup_reference, paid_at, created_at, updated_at)
SELECT 1 + g % 5000, $1::bigint, 'paid', 'GBP', 4.50, 'Earlier order', 1, 'history-' || g,
       now(), now(), now()
FROM generate_series(1, 10000) AS g
"""
PAID_HISTORY_LINES = """
INSERT INTO order_items (order_id, kind, ref_id, page_id, title, quantity, unit_price, line_total)
SELECT orders.id, 'product', line, orders.page_id, 'Loaf', 1, 2.25, 2.25
FROM orders, generate_series(1, 2) AS line
"""


async def test_postgresql_keeps_one_plan_for_the_cart_statements(
    app: Quart, db: AsyncSession, database_url: str
) -> None:
    page = await factories.page(db, "bakery")
    for number in range(5):
        product = await factories.product(db, page, f"Loaf {number}", "4.50")
        await factories.cart_item(db, product, user_id=3, quantity=1 + number)
    await db.commit()
    runs = CUSTOM_PLANS_TRIED + 5

    connection = await asyncpg.connect(database_url)
    try:
        # A shop with a history: every shopper's orders paid, none waiting for payment.
        await connection.execute(PAID_HISTORY, page.id)
        await connection.execute(PAID_HISTORY_LINES)

        await connection.execute("ANALYZE")
        counted = {}
        for name, query, params in (
            ("page", PAGE_CART[True], {"owner_user_id": 3, "slug": "bakery"}),
            ("whole cart", WHOLE_CART[True], {"owner_user_id": 3}),
            ("summary", SUMMARY[True], {"owner_user_id": 3}),
        ):
            prepared = await connection.prepare(query.sql)
            for _ in range(runs):
                await prepared.fetch(*query.arguments(params))
            counted[name] = tuple(
                await connection.fetchrow(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement = $1",
                    query.sql,
                )
            )
    finally:
        await connection.close()

    kept = (runs - CUSTOM_PLANS_TRIED, CUSTOM_PLANS_TRIED)
    assert counted == {"page": kept, "whole cart": kept, "summary": kept}
