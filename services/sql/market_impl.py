"""The market domain over the shared `products` table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Product
from services.contracts.dtos import ProductDTO


def product_to_dto(product: Product) -> ProductDTO:
    """A product row with its current price."""
    return ProductDTO(
        id=product.id,
        page_id=product.page_id,
        slug=product.slug,
        title=product.title,
        price=product.price,
        image_url=product.image_url,
        description=product.description,
    )


class SqlMarketService:
    """Products with their current price and page; deleted products do not exist for the cart."""

    async def product(self, session: AsyncSession, product_id: int) -> ProductDTO | None:
        """The live product, or None."""
        product = await session.scalar(
            select(Product).where(Product.id == product_id, Product.deleted_at.is_(None))
        )
        return product_to_dto(product) if product is not None else None

    async def products_by_ids(
        self, session: AsyncSession, ids: Sequence[int], *, include_deleted: bool = False
    ) -> dict[int, ProductDTO]:
        """The products among these ids, by id, in one query; live ones unless told otherwise."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = select(Product).where(Product.id.in_(wanted))
        if not include_deleted:
            query = query.where(Product.deleted_at.is_(None))
        rows = await session.scalars(query)
        return {product.id: product_to_dto(product) for product in rows}

    async def products_for_page(self, session: AsyncSession, page_id: int) -> list[ProductDTO]:
        """The live products sold on a page, by title."""
        rows = await session.scalars(
            select(Product)
            .where(Product.page_id == page_id, Product.deleted_at.is_(None))
            .order_by(Product.title, Product.id)
        )
        return [product_to_dto(product) for product in rows]
