"""The staff's search across every shopper's orders: each kind of term finds what it names."""

from __future__ import annotations

from typing import Any

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import factories as f
from tests.support.checkout import text
from tests.support.http import sign_in

STAFF = 42


async def found(client: Any, query: str) -> str:
    return await text(await client.get(f"/staff/orders/?{query}"))


async def test_each_kind_of_term_finds_its_orders(app: Quart, db: AsyncSession) -> None:
    await f.user(db, STAFF, is_staff=True)
    await f.user(db, 7, email="maria@example.coop")
    await f.user(db, 8, email="tom@example.coop")
    bakery = await f.page(db, "bakery", "Bakery")
    rye = await f.order(db, user_id=7, status="paid", items=[("Rye bread", 1, "3.00")])
    rye.sumup_transaction_code = "TEENSK4W2K"
    loaf = await f.order(db, user_id=8, items=[("100% spelt loaf", 1, "4.00")], page_id=bakery.id)
    guest = await f.order(
        db, session_id="guest-1", status="failed", items=[("Oat biscuits", 2, "1.50")]
    )
    await db.commit()
    client = app.test_client()
    await sign_in(app, client, STAFF)

    def ids(body: str) -> set[int]:
        return {order.id for order in (rye, loaf, guest) if f'data-order-id="{order.id}"' in body}

    assert ids(await found(client, "")) == {rye.id, loaf.id, guest.id}
    assert ids(await found(client, f"q=%23{loaf.id}")) == {loaf.id}
    assert ids(await found(client, "q=teensk4w2k")) == {rye.id}
    assert ids(await found(client, "q=maria%40")) == {rye.id}
    assert ids(await found(client, "q=RYE+BREAD")) == {rye.id}
    assert ids(await found(client, "q=ry")) == {rye.id}
    # % and _ are matched as themselves, not as patterns.
    assert ids(await found(client, "q=100%25")) == {loaf.id}
    assert ids(await found(client, "q=%25")) == {loaf.id}
    assert ids(await found(client, "status=failed")) == {guest.id}
    assert ids(await found(client, "page_slug=bakery")) == {loaf.id}
    assert ids(await found(client, "flag=waiting")) == {loaf.id, guest.id}
    nowhere = await found(client, "page_slug=nowhere")
    assert ids(nowhere) == set() and "There is no page" in nowhere
    fragment = await client.get("/staff/orders/?q=oat", headers={"HX-Request": "true"})
    body = await text(fragment)
    assert ids(body) == {guest.id} and "<html" not in body


async def test_a_transaction_code_of_letters_alone_is_found_as_is_a_title_of_one_word(
    app: Quart, db: AsyncSession
) -> None:
    # SumUp's codes are random letters and digits: some have no digit at all.
    await f.user(db, STAFF, is_staff=True)
    coded = await f.order(db, user_id=7, status="paid", items=[("Rye bread", 1, "3.00")])
    coded.sumup_transaction_code = "QPZKBNRTWA"
    worded = await f.order(db, user_id=8, items=[("Sourdoughloaf", 1, "4.00")])
    await db.commit()
    client = app.test_client()
    await sign_in(app, client, STAFF)

    def ids(body: str) -> set[int]:
        return {order.id for order in (coded, worded) if f'data-order-id="{order.id}"' in body}

    assert ids(await found(client, "q=qpzkbnrtwa")) == {coded.id}
    assert ids(await found(client, "q=sourdoughloaf")) == {worded.id}
