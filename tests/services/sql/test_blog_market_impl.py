"""Pages and products as the cart sees them: deleted ones do not exist."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Page, Product, utcnow
from services.sql.blog_impl import SqlBlogService
from services.sql.market_impl import SqlMarketService
from tests.support import factories as f

blog = SqlBlogService()
market = SqlMarketService()


async def test_pages_by_slug_and_ids_without_deleted_ones(db: AsyncSession) -> None:
    bakery = await f.page(db, "bakery", "The Bakery")
    garden = await f.page(db, "garden", "Garden Club")
    gone = await f.page(db, "gone", "Gone")
    await db.execute(update(Page).where(Page.id == gone.id).values(deleted_at=utcnow()))
    await db.commit()

    found = await blog.page_by_slug(db, "bakery")
    assert found is not None and (found.id, found.title) == (bakery.id, "The Bakery")
    assert await blog.page_by_slug(db, "gone") is None
    assert await blog.page_by_slug(db, "nowhere") is None
    assert set(await blog.pages_by_ids(db, [bakery.id, gone.id, 999, bakery.id])) == {bakery.id}
    assert await blog.pages_by_ids(db, []) == {}
    assert [p.slug for p in await blog.list_pages(db)] == ["garden", "bakery"]
    assert garden.id in {p.id for p in await blog.list_pages(db)}


async def test_products_with_current_price_without_deleted_ones(db: AsyncSession) -> None:
    page = await f.page(db)
    loaf = await f.product(db, page, "Loaf", "4.50")
    rye = await f.product(db, page, "Rye", "3.80")
    await db.execute(update(Product).where(Product.id == rye.id).values(deleted_at=utcnow()))
    await db.execute(update(Product).where(Product.id == loaf.id).values(price=Decimal("5.00")))
    await db.commit()

    product = await market.product(db, loaf.id)
    assert product is not None and product.price == Decimal("5.00") and product.page_id == page.id
    assert await market.product(db, rye.id) is None
    assert set(await market.products_by_ids(db, [loaf.id, rye.id, 12345])) == {loaf.id}
    withdrawn = await market.products_by_ids(db, [loaf.id, rye.id], include_deleted=True)
    assert {p.title for p in withdrawn.values()} == {"Loaf", "Rye"}
    assert await market.products_by_ids(db, []) == {}
    assert [p.title for p in await market.products_for_page(db, page.id)] == ["Loaf"]


async def test_a_slug_with_control_characters_is_no_page(db: AsyncSession) -> None:
    await f.page(db, "bakery")
    for hostile in ("\x00", "bak\x00ery", "x" * 129, "", "a/b"):
        assert await blog.page_by_slug(db, hostile) is None
    assert await blog.page_by_slug(db, "bakery") is not None
