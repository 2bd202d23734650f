"""The market domain over the shared `products` table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import Query, execute_alone
from models import Product
from services.contracts.dtos import ProductDTO

# A product's columns, in the order of `product_from_columns`.
PRODUCT_COLUMNS = (
    Product.id,
    Product.page_id,
    Product.slug,
    Product.title,
    Product.price,
    Product.image_url,
    Product.description,
)
LIVE_PRODUCT = Query(
    select(*PRODUCT_COLUMNS).where(
        Product.id == bindparam("product_id"), Product.deleted_at.is_(None)
    )
)


def product_from_columns(row: Sequence[Any]) -> ProductDTO:
    """A product from its `PRODUCT_COLUMNS`."""
    id_, page_id, slug, title, price, image_url, description = row
    return ProductDTO(
        id=id_,
        page_id=page_id,
        slug=slug,
        title=title,
        price=price,
        image_url=image_url,
        description=description,
    )


class SqlMarketService:
    """Products with their current price and page; deleted products do not exist for the cart."""

    async def product(self, session: AsyncSession, product_id: int) -> ProductDTO | None:
        """The live product, or None (read alone when the session has no transaction open)."""
        row = (await execute_alone(session, LIVE_PRODUCT, {"product_id": product_id})).first()
        return product_from_columns(row) if row is not None else None

    async def products_by_ids(
        self, session: AsyncSession, ids: Sequence[int], *, include_deleted: bool = False
    ) -> dict[int, ProductDTO]:
        """The products among these ids, by id, in one query; live ones unless told otherwise."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = select(*PRODUCT_COLUMNS).where(Product.id.in_(wanted))
        if not include_deleted:
            query = query.where(Product.deleted_at.is_(None))
        rows = await session.execute(query)
        return {row[0]: product_from_columns(row) for row in rows}

    async def products_for_page(self, session: AsyncSession, page_id: int) -> list[ProductDTO]:
        """The live products sold on a page, by title."""
        rows = await session.execute(
            select(*PRODUCT_COLUMNS)
            .where(Product.page_id == page_id, Product.deleted_at.is_(None))
            .order_by(Product.title, Product.id)
        )
        return [product_from_columns(row) for row in rows]
