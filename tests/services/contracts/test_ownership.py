"""Ownership, written once: the SQL condition and the Python predicate agree on every kind of row.

Owners: user 1, user 2, anonymous carts A and B, and a row user 1 adopted from cart A (an order
keeps its session id; bookings and tickets may too, their tables allow it). Cart lines have
exactly one owner, so they have no adopted row.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, CartItem, Order, Ticket
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import (
    OwnedModel,
    owned_by,
    owned_by_bound,
    owner_of,
    owner_params,
    owns,
)
from tests.support import factories as f

OWNERS: dict[str, dict[str, Any]] = {
    "user 1": {"user_id": 1},
    "user 2": {"user_id": 2},
    "cart A": {"session_id": "cart-a"},
    "cart B": {"session_id": "cart-b"},
    "adopted by user 1 from cart A": {"user_id": 1, "session_id": "cart-a"},
}
IDENTITIES = {
    "user 1": CartIdentity(user_id=1),
    "user 2": CartIdentity(user_id=2),
    "cart A": CartIdentity(session_id="cart-a"),
    "cart B": CartIdentity(session_id="cart-b"),
}
# Who owns what: the rule, spelled out.
EXPECTED = {
    "user 1": {"user 1", "adopted by user 1 from cart A"},
    "user 2": {"user 2"},
    "cart A": {"cart A"},
    "cart B": {"cart B"},
}


async def make_rows(db: AsyncSession, model: OwnedModel) -> dict[str, Any]:
    """One row of `model` per owner."""
    page = await f.page(db)
    calendar = await f.calendar(db, page)
    product = await f.product(db, page)
    ticket_type = await f.ticket_type(db, await f.event(db, calendar))
    rows: dict[str, Any] = {}
    for name, owner in OWNERS.items():
        if model is Order:
            rows[name] = await f.order(db, **owner)
        elif model is CalendarEntry:
            rows[name] = await f.booking(db, calendar, **owner)
        elif model is CartItem and len(owner) == 1:
            rows[name] = await f.cart_item(db, product, **owner)
        elif model is Ticket:
            ticket = Ticket(
                entry_id=ticket_type.entry_id,
                ticket_type_id=ticket_type.id,
                state="pending",
                code=secrets.token_hex(8),
                **owner,
            )
            db.add(ticket)
            await db.commit()
            rows[name] = ticket
    return rows


@pytest.mark.parametrize("model", [Order, CartItem, CalendarEntry, Ticket])
async def test_the_condition_and_the_predicate_say_the_same(
    db: AsyncSession, model: OwnedModel
) -> None:
    rows = await make_rows(db, model)
    names = {row.id: name for name, row in rows.items()}

    for who, identity in IDENTITIES.items():
        selected = set(await db.scalars(select(model.id).where(owned_by(model, identity))))
        bound = select(model.id).where(owned_by_bound(model, signed_in=identity.is_user))
        selected_bound = set(await db.scalars(bound, owner_params(identity)))
        predicate = {row.id for row in rows.values() if owns(identity, row)}

        assert selected == predicate == selected_bound, who
        assert {names[row_id] for row_id in selected} == EXPECTED[who] & set(rows), who


async def test_nobody_owns_anything_without_an_identity(db: AsyncSession) -> None:
    order = await f.order(db, session_id="cart-a")
    assert not owns(None, order)


async def test_a_rows_owner_is_its_user_once_it_has_one(db: AsyncSession) -> None:
    adopted = await f.order(db, user_id=1, session_id="cart-a")
    anonymous = await f.order(db, session_id="cart-a")

    assert owner_of(adopted) == CartIdentity(user_id=1)
    assert owner_of(anonymous) == CartIdentity(session_id="cart-a")
    assert owns(owner_of(adopted), adopted) and owns(owner_of(anonymous), anonymous)
