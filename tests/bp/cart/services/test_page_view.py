"""A page cart's one statement (and the overview's cart statement) reads what the reads per
domain read: the cart, the orders waiting for payment that a checkout would replace (with what
they hold), and the badge's summary of the whole cart."""

from __future__ import annotations

from datetime import UTC, datetime

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_preview import waiting_orders
from bp.cart.services.page_cart import (
    get_cart_grouped_by_page,
    get_overview,
    get_page_cart,
    get_page_view_by_slug,
)
from bp.cart.services.summary import get_cart_summary
from bp.runtime import runtime
from services.contracts.dtos import CartIdentity
from tests.support import factories as f


async def test_one_statement_reads_what_the_domains_read(app: Quart, db: AsyncSession) -> None:
    page, other = await f.page(db, "bakery"), await f.page(db, "dairy")
    cal = await f.calendar(db, page)
    standard = await f.ticket_type(db, await f.event(db, cal), "Standard")
    await f.cart_item(db, await f.product(db, page, "Loaf"), user_id=1, quantity=2)
    await f.cart_item(db, await f.product(db, other, "Milk"), user_id=1)
    await f.booking(db, cal, user_id=1)
    await f.ticket(db, standard, user_id=1)
    on_page = await f.order(db, user_id=1, page_id=page.id, items=[("Loaf", 3, "4.50")])
    held = await f.booking(db, cal, user_id=1, state="ordered", name="Held session")
    held.order_id = on_page.id
    await db.commit()
    await f.ticket(db, standard, user_id=1, state="reserved", order_id=on_page.id)
    cart_wide = await f.order(db, user_id=1, status="failed")
    elsewhere = await f.order(db, user_id=1, page_id=other.id)  # not replaced by this page's
    await f.order(db, user_id=1, page_id=page.id, status="paid")
    await f.order(db, user_id=2, page_id=page.id)
    identity, domains = CartIdentity(user_id=1), runtime(app).domains

    view = await get_page_view_by_slug(
        db, identity=identity, slug="bakery", currency="GBP", domains=domains
    )

    assert [order.order_id for order in view.held] == [on_page.id, cart_wide.id]
    assert [len(view.held[0].entries), len(view.held[0].tickets)] == [1, 1]
    assert view.held == await waiting_orders(
        db, identity=identity, page_id=page.id, domains=domains
    )
    assert view.cart == await get_page_cart(db, identity=identity, page=view.page, domains=domains)
    assert view.summary == await get_cart_summary(
        db, identity=identity, currency="GBP", domains=domains
    )
    assert view.summary is not None and view.summary.badge_count == 5

    overview = await get_overview(db, identity=identity, currency="GBP", domains=domains)

    assert [group.page.slug for group in overview.groups if group.page] == ["bakery", "dairy"]
    assert overview.groups == await get_cart_grouped_by_page(db, identity=identity, domains=domains)
    assert overview.held == await waiting_orders(
        db, identity=identity, page_id=None, domains=domains
    )
    assert [order.order_id for order in overview.held] == [on_page.id, cart_wide.id, elsewhere.id]
    assert overview.summary == view.summary


async def test_an_anonymous_cart_reads_the_same(app: Quart, db: AsyncSession) -> None:
    page = await f.page(db, "bakery")
    await f.cart_item(db, await f.product(db, page, "Loaf"), session_id="anon-1", quantity=2)
    await f.booking(db, await f.calendar(db, page), session_id="anon-1")
    waiting = await f.order(db, session_id="anon-1", page_id=page.id)
    await f.order(db, session_id="anon-1", user_id=3, page_id=page.id)  # adopted: the user's
    identity, domains = CartIdentity(session_id="anon-1"), runtime(app).domains

    view = await get_page_view_by_slug(
        db, identity=identity, slug="bakery", currency="GBP", domains=domains
    )

    assert [order.order_id for order in view.held] == [waiting.id]
    assert view.held == await waiting_orders(
        db, identity=identity, page_id=page.id, domains=domains
    )
    assert view.summary == await get_cart_summary(
        db, identity=identity, currency="GBP", domains=domains
    )


async def test_the_overview_reads_the_pages_its_cart_is_on(app: Quart, db: AsyncSession) -> None:
    """Products', bookings' and tickets' pages, each alone on a page; a deleted page's items
    grouped apart; a product no longer sold, and other shoppers' pages, not there."""
    bakery, dairy, hall, gone = [
        await f.page(db, slug) for slug in ("bakery", "dairy", "hall", "gone")
    ]
    await f.cart_item(db, await f.product(db, bakery, "Loaf"), user_id=1)
    await f.booking(db, await f.calendar(db, dairy), user_id=1)
    await f.ticket(
        db, await f.ticket_type(db, await f.event(db, await f.calendar(db, hall))), user_id=1
    )
    await f.cart_item(db, await f.product(db, gone, "Jam"), user_id=1)
    unsold = await f.product(db, await f.page(db, "unsold"), "Pie")
    await f.cart_item(db, unsold, user_id=1)
    await f.cart_item(db, await f.product(db, await f.page(db, "theirs"), "Tea"), user_id=2)
    await f.booking(db, await f.calendar(db, await f.page(db, "anon")), session_id="anon-2")
    unsold.deleted_at = gone.deleted_at = datetime.now(UTC)
    await db.commit()
    domains = runtime(app).domains

    for identity in (CartIdentity(user_id=1), CartIdentity(session_id="anon-2")):
        overview = await get_overview(db, identity=identity, currency="GBP", domains=domains)
        assert overview.groups == await get_cart_grouped_by_page(
            db, identity=identity, domains=domains
        )

    mine = await get_overview(db, identity=CartIdentity(user_id=1), currency="GBP", domains=domains)
    assert [group.page.slug if group.page else None for group in mine.groups] == [
        "bakery",
        "dairy",
        "hall",
        None,
    ]
