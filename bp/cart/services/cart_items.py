"""Changing the product lines of a cart: add, set a quantity, remove."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert, ReturningUpdate

from lib.db import Query, commit_begun, execute_alone
from lib.error_codes import ErrorCode
from lib.errors import FieldError, NotFound
from models import CartItem, Product
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity, ProductDTO
from services.contracts.ownership import owned_by_bound, owner_params
from services.registry import DomainServices
from services.sql.cart_impl import SUMMARY_LABELS, one_statement_summary, summary_statement
from services.sql.market_impl import PRODUCT_COLUMNS, SqlMarketService, product_from_columns

# More digits than any sensible quantity; longer input is refused before int() sees it.
MAX_QUANTITY_DIGITS = 6
QUANTITY_FIELD = "quantity"
# What is typed is shown again by the field; no more than this of it.
MAX_SHOWN_VALUE = 20
# The product's columns lead the one-statement add's row.
PRODUCT_WIDTH = len(PRODUCT_COLUMNS)


@dataclass(frozen=True, slots=True)
class LineChange:
    """A line after a change: its product, and its quantity (0 when it was removed)."""

    item_id: int
    product: ProductDTO | None
    quantity: int
    # The cart's badge after the change, when the change's statement read it.
    summary: CartSummary | None = None

    @property
    def title(self) -> str:
        return self.product.title if self.product is not None else "that item"


def quantity_range(*, maximum: int, allow_zero: bool) -> str:
    """The bounds a quantity field accepts (its `min` and `max`), as its messages say them."""
    return f"from {0 if allow_zero else 1} to {maximum}"


def parse_quantity(
    raw: str | None, *, maximum: int, default: int | None = None, allow_zero: bool = False
) -> int:
    """A quantity typed by a shopper, or a 400 by the field saying what it may be.

    The bounds are the ones the forms' `min` and `max` show: 1 to `maximum` when adding, 0 to
    `maximum` when setting a line (0 removes it).
    """
    text = (raw or "").strip()
    if not text and default is not None:
        return default
    bounds = quantity_range(maximum=maximum, allow_zero=allow_zero)
    # Each way a quantity is wrong keeps its code, and says the one rule the same way.
    digits = text.lstrip("+-")
    if not text:
        raise FieldError(ErrorCode.QUANTITY_MISSING, bounds=bounds, **_field(raw))
    if not digits.isdecimal() or not digits.isascii() or len(digits) > MAX_QUANTITY_DIGITS:
        raise FieldError(ErrorCode.QUANTITY_NOT_WHOLE, bounds=bounds, **_field(raw))
    quantity = int(text)
    if quantity < 0 or (quantity == 0 and not allow_zero) or quantity > maximum:
        raise FieldError(ErrorCode.INVALID_QUANTITY, bounds=bounds, **_field(raw))
    return quantity


def _into_line(statement: Insert, *, signed_in: bool) -> ReturningInsert[int, int]:
    """The insert of a line, or else an add to the owner's live line of the product (the
    owner's partial unique index), never beyond `max_quantity`; the line's id and quantity."""
    owner = CartItem.user_id if signed_in else CartItem.session_id
    merged = CartItem.quantity + statement.excluded.quantity
    return statement.on_conflict_do_update(
        index_elements=[owner, CartItem.product_id],
        index_where=and_(CartItem.deleted_at.is_(None), owner.is_not(None)),
        set_={"quantity": merged, "updated_at": func.now()},
        where=merged <= bindparam("max_quantity"),
    ).returning(CartItem.id, CartItem.quantity)


def add_statement(*, signed_in: bool) -> ReturningInsert[int, int]:
    """Put a product in the owner's cart (see _into_line); every value bound at execution."""
    statement = insert(CartItem).values(
        user_id=bindparam("user_id"),
        session_id=bindparam("session_id"),
        product_id=bindparam("product_id"),
        quantity=bindparam("quantity"),
    )
    return _into_line(statement, signed_in=signed_in)


# The add's statement for a signed-in owner (True) and an anonymous one (False), built once.
ADD = {kind: Query(add_statement(signed_in=kind)) for kind in (True, False)}


def add_live_product_statement(*, signed_in: bool, with_badge: bool = False) -> Select[Any]:
    """The add in one round trip while the market shares the cart's database: the live
    product's columns, and the line it made or added to (NULLs when the line would go beyond
    `max_quantity`); no row when the product is not for sale. The same upsert as
    `add_statement`, fed by the product's row, so a product that is gone adds nothing.

    `with_badge` (the cart's summary one statement too) adds the badge's columns of the cart
    after the add (the owner also bound as `owner_params`). The statement's own write is not
    seen by its other parts, so they are the summary before it plus what it added: the line
    grew by `quantity` whether it was made or added to."""
    product = (
        select(*PRODUCT_COLUMNS)
        .where(Product.id == bindparam("product_id"), Product.deleted_at.is_(None))
        .cte("product")
    )
    inserted = insert(CartItem).from_select(
        ["user_id", "session_id", "product_id", "quantity"],
        select(
            bindparam("user_id", type_=BigInteger),
            bindparam("session_id", type_=String),
            product.c.id,
            bindparam("quantity", type_=Integer),
        ),
    )
    added = _into_line(inserted, signed_in=signed_in).cte("added")
    line = (added.c.id.label("line_id"), added.c.quantity)
    if not with_badge:
        return select(*product.c, *line).outerjoin(added, true())
    before = summary_statement(signed_in=signed_in).subquery("badge")
    grew = case((added.c.id.is_not(None), bindparam("quantity", type_=Integer)), else_=0)
    after = {
        "count": before.c.count + grew,
        "total": before.c.total + grew * product.c.price,
    }
    badge = [after.get(name, before.c[name]).label(name) for name in SUMMARY_LABELS]
    return (
        select(*product.c, *line, *badge)
        .select_from(product)
        .outerjoin(added, true())
        .join(before, true())
    )


ADD_LIVE_PRODUCT = {
    kind: Query(add_live_product_statement(signed_in=kind)) for kind in (True, False)
}
ADD_LIVE_PRODUCT_WITH_BADGE = {
    kind: Query(add_live_product_statement(signed_in=kind, with_badge=True))
    for kind in (True, False)
}


def _live_line_of(*, signed_in: bool) -> tuple[ColumnElement[bool], ...]:
    """The line `item_id` if the owner (bound at execution) has it in the cart (not bought)."""
    return (
        CartItem.id == bindparam("item_id"),
        owned_by_bound(CartItem, signed_in=signed_in),
        CartItem.deleted_at.is_(None),
    )


def _set_quantity_statement(*, signed_in: bool) -> ReturningUpdate[tuple[int]]:
    return (
        update(CartItem)
        .where(*_live_line_of(signed_in=signed_in))
        .values(quantity=bindparam("quantity"), updated_at=func.now())
        .returning(CartItem.product_id)
    )


def _remove_statement(*, signed_in: bool) -> ReturningDelete[tuple[int]]:
    return (
        delete(CartItem).where(*_live_line_of(signed_in=signed_in)).returning(CartItem.product_id)
    )


def with_live_product(
    change: ReturningUpdate[tuple[int]] | ReturningDelete[tuple[int]],
) -> Select[Any]:
    """A line's change and its product in one round trip, while the market shares the cart's
    database: the product id the change returned, then the product's columns (NULLs when it
    is no longer for sale); no row when the owner has no such line."""
    changed = change.cte("changed")
    live = and_(Product.id == changed.c.product_id, Product.deleted_at.is_(None))
    return (
        select(changed.c.product_id, *PRODUCT_COLUMNS).select_from(changed).outerjoin(Product, live)
    )


# A quantity change and a removal, for each kind of owner, built once: alone, each answers
# the line's product id (nothing when the owner has no such line); with the product, see
# with_live_product.
SET_QUANTITY = {kind: Query(_set_quantity_statement(signed_in=kind)) for kind in (True, False)}
REMOVE = {kind: Query(_remove_statement(signed_in=kind)) for kind in (True, False)}
SET_QUANTITY_WITH_PRODUCT = {
    kind: Query(with_live_product(_set_quantity_statement(signed_in=kind)))
    for kind in (True, False)
}
REMOVE_WITH_PRODUCT = {
    kind: Query(with_live_product(_remove_statement(signed_in=kind))) for kind in (True, False)
}


def _field(raw: str | None) -> dict[str, str]:
    """The quantity field's name and what was typed (cut short: it is shown again)."""
    return {"field": QUANTITY_FIELD, "value": (raw or "")[:MAX_SHOWN_VALUE]}


async def add_product(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    product_id: int,
    quantity: int,
    max_quantity: int,
    domains: DomainServices,
) -> LineChange:
    """Put a product in the cart, or add to its line; never beyond `max_quantity` per line.

    One statement does both, so two adds racing end in one line with both quantities.
    """
    params = {
        "user_id": identity.user_id,
        "session_id": identity.session_id,
        "product_id": product_id,
        "quantity": quantity,
        "max_quantity": max_quantity,
    }
    product: ProductDTO | None
    summary: CartSummary | None = None
    # One statement is its own transaction: no BEGIN or COMMIT round trip when it is alone.
    if isinstance(domains.market, SqlMarketService):
        badge = one_statement_summary(domains.cart)
        statement = (ADD_LIVE_PRODUCT if badge is None else ADD_LIVE_PRODUCT_WITH_BADGE)[
            identity.is_user
        ]
        found = (await execute_alone(session, statement, params | owner_params(identity))).first()
        product = product_from_columns(found[:PRODUCT_WIDTH]) if found is not None else None
        row = (
            found[PRODUCT_WIDTH:]
            if found is not None and found[PRODUCT_WIDTH] is not None
            else None
        )
        if row is not None and badge is not None:
            summary = badge.summary_from_columns(row[2:])
    else:
        product = await domains.market.product(session, product_id)
        row = None
        if product is not None:
            row = (await execute_alone(session, ADD[identity.is_user], params)).first()
    if product is None:
        raise NotFound(ErrorCode.PRODUCT_UNAVAILABLE)
    if row is None:
        await session.rollback()
        raise FieldError(
            ErrorCode.QUANTITY_LIMIT,
            field=QUANTITY_FIELD,
            value=str(quantity),
            maximum=max_quantity,
            item=product.title,
        )
    await commit_begun(session)
    return LineChange(item_id=row[0], product=product, quantity=row[1], summary=summary)


def added_message(change: LineChange, quantity: int) -> str:
    """What the shopper is told after adding `quantity` of a product."""
    noun = change.title if quantity == 1 else f"{quantity} of {change.title}"
    return f"Added {noun} to your cart."


async def set_quantity(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    item_id: int,
    quantity: int,
    domains: DomainServices,
) -> LineChange:
    """Set a line's quantity (already validated); 0 removes the line."""
    if quantity == 0:
        return await remove_line(session, identity=identity, item_id=item_id, domains=domains)
    params = {**owner_params(identity), "item_id": item_id, "quantity": quantity}
    kind = identity.is_user
    product = await _change_line(
        session, SET_QUANTITY[kind], SET_QUANTITY_WITH_PRODUCT[kind], params, domains=domains
    )
    return LineChange(item_id=item_id, product=product, quantity=quantity)


async def remove_line(
    session: AsyncSession, *, identity: CartIdentity, item_id: int, domains: DomainServices
) -> LineChange:
    """Take a line out of the cart (it was never bought, so nothing is kept)."""
    params = {**owner_params(identity), "item_id": item_id}
    kind = identity.is_user
    product = await _change_line(
        session, REMOVE[kind], REMOVE_WITH_PRODUCT[kind], params, domains=domains
    )
    return LineChange(item_id=item_id, product=product, quantity=0)


async def _change_line(
    session: AsyncSession,
    alone: Query,
    with_product: Query,
    params: dict[str, Any],
    *,
    domains: DomainServices,
) -> ProductDTO | None:
    """Change a line, committed; its product, for the message (None when no longer for
    sale). NotFound when the owner has no such line in the cart."""
    if isinstance(domains.market, SqlMarketService):
        row = (await execute_alone(session, with_product, params)).first()
        if row is None:
            raise NotFound(ErrorCode.LINE_NOT_FOUND)
        await commit_begun(session)
        return product_from_columns(row[1:]) if row[1] is not None else None
    product_id = (await execute_alone(session, alone, params)).scalar()
    if product_id is None:
        raise NotFound(ErrorCode.LINE_NOT_FOUND)
    await commit_begun(session)
    return await domains.market.product(session, product_id)


async def remove_booking(
    session: AsyncSession, *, identity: CartIdentity, entry_id: int, domains: DomainServices
) -> None:
    """Cancel a pending booking of this cart; 404 for anyone else's or one already ordered."""
    if not await domains.calendar.remove_entry(session, identity=identity, entry_id=entry_id):
        raise NotFound(ErrorCode.BOOKING_NOT_FOUND)
    await session.commit()


async def remove_ticket(
    session: AsyncSession, *, identity: CartIdentity, ticket_id: int, domains: DomainServices
) -> None:
    """Cancel a pending ticket of this cart; 404 for anyone else's or one already ordered."""
    if identity.user_id is None or not await domains.calendar.remove_ticket(
        session, identity=identity, ticket_id=ticket_id
    ):
        raise NotFound(ErrorCode.TICKET_NOT_FOUND)
    await session.commit()
