"""Handing an anonymous cart to the user who signed in, once, whoever asks first."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import CartItem, Order
from services.contracts.dtos import AdoptionResult, CartIdentity
from services.contracts.ownership import owned_by
from services.registry import DomainServices

LOCK_NAMESPACE = "cart-adopt:"


@dataclass(frozen=True, slots=True)
class Adoption:
    """What was adopted, and the products whose merged quantity hit the per-line limit."""

    result: AdoptionResult = field(default_factory=AdoptionResult)
    capped: list[str] = field(default_factory=list)
    max_quantity: int = 0
    # Products that became new lines (title, quantity), and those merged into a line the user
    # already had (title, quantity brought, quantity now).
    added: list[tuple[str, int]] = field(default_factory=list)
    merged: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def kept(self) -> int:
        """Product units, bookings and tickets now in the user's cart (as the badge counts)."""
        return self.result.items + self.result.entries + self.result.tickets


async def adopt_anonymous_cart(
    session: AsyncSession,
    *,
    session_id: str,
    user_id: int,
    max_quantity: int,
    domains: DomainServices,
) -> Adoption:
    """Move the session's lines (merged by product), bookings, tickets and orders to the user.

    One transaction under an advisory lock on the session id: a second adoption, concurrent or
    later, waits and then finds nothing left to move.
    """
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(LOCK_NAMESPACE + session_id, 0)))
    )
    anonymous_cart = CartIdentity(session_id=session_id)
    anonymous = and_(owned_by(CartItem, anonymous_cart), CartItem.deleted_at.is_(None))
    rows = await session.execute(
        select(CartItem.product_id, CartItem.quantity).where(
            CartItem.user_id == user_id, CartItem.deleted_at.is_(None)
        )
    )
    before = {product_id: quantity for product_id, quantity in rows}
    lines = await _move_lines(session, anonymous=anonymous, user_id=user_id, most=max_quantity)
    # The lines the user already had of the products moved: those were merged into.
    had = {pid: before[pid] for pid in lines if pid in before}
    capped_ids = [pid for pid, qty in had.items() if qty + lines[pid] > max_quantity]
    calendar = await domains.calendar.adopt(session, session_id=session_id, user_id=user_id)
    orders = await session.execute(
        update(Order)
        .where(owned_by(Order, anonymous_cart))
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    titles: dict[int, str] = {}
    if lines:
        found = await domains.market.products_by_ids(session, list(lines), include_deleted=True)
        titles = {pid: product.title for pid, product in found.items()}
    capped = sorted(titles[pid] for pid in capped_ids if pid in titles)
    added = [(titles[pid], n) for pid, n in lines.items() if pid not in had and pid in titles]
    merged = [
        (titles[pid], n, min(had[pid] + n, max_quantity))
        for pid, n in lines.items()
        if pid in had and pid in titles and pid not in capped_ids
    ]
    await session.commit()
    return Adoption(
        result=AdoptionResult(
            items=sum(lines.values()),
            entries=calendar.entries,
            tickets=calendar.tickets,
            orders=int(getattr(orders, "rowcount", 0) or 0),
        ),
        capped=capped,
        max_quantity=max_quantity,
        added=added,
        merged=merged,
    )


async def _move_lines(
    session: AsyncSession, *, anonymous: ColumnElement[bool], user_id: int, most: int
) -> dict[int, int]:
    """Move the anonymous lines to the user, merged by product; answers what was moved.

    One statement, so the rows deleted are exactly the rows copied: an add or a payment
    another connection commits meanwhile either happened before (and its row is moved as it
    now is, or is no longer live and stays behind) or comes after and finds the line gone.
    Copying and deleting in two statements lost the one and revived the other.
    """
    moved = delete(CartItem).where(anonymous).returning(CartItem.product_id, CartItem.quantity)
    moved_rows = moved.cte("moved")
    merge = insert(CartItem).from_select(
        ["user_id", "product_id", "quantity"],
        select(literal(user_id), moved_rows.c.product_id, moved_rows.c.quantity),
    )
    merge = merge.on_conflict_do_update(
        index_elements=[CartItem.user_id, CartItem.product_id],
        index_where=and_(CartItem.deleted_at.is_(None), CartItem.user_id.is_not(None)),
        set_={
            "quantity": func.least(CartItem.quantity + merge.excluded.quantity, most),
            "updated_at": func.now(),
        },
    )
    rows = await session.execute(
        select(moved_rows.c.product_id, moved_rows.c.quantity).add_cte(merge.cte("merged"))
    )
    return {product_id: quantity for product_id, quantity in rows}


def adoption_messages(adoption: Adoption) -> list[str]:
    """What to tell the shopper after signing in: what was kept, and what hit the limit."""
    messages: list[str] = []
    if adoption.kept:
        noun = "item" if adoption.kept == 1 else "items"
        messages.append(f"We kept the {adoption.kept} {noun} from before you signed in.")
    if adoption.added:
        lines = ", ".join(f"{title} ({n})" for title, n in adoption.added)
        messages.append(f"Added to your cart: {lines}.")
    for title, brought, now in adoption.merged:
        messages.append(
            f"{title} was already in your cart: the {brought} from before you signed in "
            f"{'was' if brought == 1 else 'were'} added to that line, which now has {now}."
        )
    for title in adoption.capped:
        messages.append(
            f"You can have at most {adoption.max_quantity} of {title} in your cart, "
            f"so we kept {adoption.max_quantity}."
        )
    return messages
