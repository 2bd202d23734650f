"""The product lines of a cart, with each product's current price from the market."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CartItem
from services.contracts.dtos import CartIdentity, CartLineDTO, ProductDTO
from services.contracts.ownership import owned_by
from services.registry import DomainServices
from services.sql.cart_impl import lines_with_products
from services.sql.market_impl import SqlMarketService


@dataclass(frozen=True, slots=True)
class UnavailableLine:
    """A line whose product the market no longer sells (deleted, or never existed)."""

    id: int
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class CartLines:
    """The live lines, and, apart, the lines whose product is gone."""

    lines: list[CartLineDTO] = field(default_factory=list)
    unavailable: list[UnavailableLine] = field(default_factory=list)


async def load_cart_lines(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    domains: DomainServices,
    page_id: int | None = None,
) -> CartLines:
    """Lines of the identity (of one page, if given): one query for lines and products when
    the market shares the cart's database, else one for lines and one for products.

    Unavailable lines are reported only for the whole cart: without its product, a line's
    page is unknown.
    """
    if isinstance(domains.market, SqlMarketService):
        rows = await lines_with_products(session, identity=identity)
    else:
        rows = await _lines_then_products(session, identity=identity, domains=domains)
    lines: list[CartLineDTO] = []
    unavailable: list[UnavailableLine] = []
    for item_id, product_id, quantity, product in rows:
        if product is None:
            unavailable.append(UnavailableLine(item_id, product_id, quantity))
        elif page_id is None or product.page_id == page_id:
            lines.append(CartLineDTO(id=item_id, product=product, quantity=quantity))
    return CartLines(lines=lines, unavailable=unavailable if page_id is None else [])


async def _lines_then_products(
    session: AsyncSession, *, identity: CartIdentity, domains: DomainServices
) -> list[tuple[int, int, int, ProductDTO | None]]:
    """The lines, then their products from the market (a market of its own)."""
    rows = (
        await session.execute(
            select(CartItem.id, CartItem.product_id, CartItem.quantity)
            .where(owned_by(CartItem, identity), CartItem.deleted_at.is_(None))
            .order_by(CartItem.created_at, CartItem.id)
        )
    ).all()
    if not rows:
        return []
    products = await domains.market.products_by_ids(session, [row.product_id for row in rows])
    return [(item_id, pid, quantity, products.get(pid)) for item_id, pid, quantity in rows]


async def get_cart_lines(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    domains: DomainServices,
    page_id: int | None = None,
) -> list[CartLineDTO]:
    """Live lines with current prices; lines whose product was deleted are left out."""
    loaded = await load_cart_lines(session, identity=identity, domains=domains, page_id=page_id)
    return loaded.lines
