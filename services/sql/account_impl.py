"""The account domain over its `users` table, read-only, through the account engine's session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lib.db import Query, fetch_on_driver
from lib.ids import is_id
from lib.like import LIKE_ESCAPE, escape_like
from models import User
from services.contracts.dtos import ShopperContact

SHOPPER_CONTACT = Query(select(User.email, User.name).where(User.id == bindparam("user_id")))


class SqlAccountService:
    """Shoppers' names and e-mail addresses, and who is staff (the account app owns them)."""

    async def shopper_contact(self, session: AsyncSession, user_id: int) -> ShopperContact | None:
        """The user's address and name, in a read-only transaction; None for an unknown user."""
        if not is_id(user_id):
            return None
        await _read_only(session)
        row = (await session.execute(SHOPPER_CONTACT.statement, {"user_id": user_id})).first()
        return _contact(row)

    async def shopper_contact_alone(
        self, engine: AsyncEngine, user_id: int
    ) -> ShopperContact | None:
        """The same, as its one SELECT alone in autocommit on the account engine's driver
        (lib/db.fetch_on_driver): one round trip, where the read-only transaction around it
        costs three. A lone SELECT writes nothing, so it needs no READ ONLY to be read-only.
        For an engine whose statements may run alone (lib/db.runs_alone) only."""
        if not is_id(user_id):
            return None
        rows = await fetch_on_driver(engine, SHOPPER_CONTACT, {"user_id": user_id})
        return _contact(rows[0] if rows else None)

    async def is_staff(self, session: AsyncSession, user_id: int) -> bool:
        """Whether the account app marks the user as staff; an unknown user is not."""
        if not is_id(user_id):
            return False
        await _read_only(session)
        found = await session.scalar(select(User.is_staff).where(User.id == user_id))
        return bool(found)

    async def users_by_email(
        self, session: AsyncSession, term: str, *, limit: int
    ) -> dict[int, ShopperContact]:
        """Users whose address contains the term, ignoring case, fewest first by id."""
        term = term.strip()
        if not term:
            return {}
        await _read_only(session)
        rows = await session.execute(
            select(User.id, User.email, User.name)
            .where(User.email.ilike(f"%{escape_like(term)}%", escape=LIKE_ESCAPE))
            .order_by(User.id)
            .limit(limit)
        )
        return {row.id: ShopperContact(email=row.email, name=row.name or None) for row in rows}

    async def contacts(
        self, session: AsyncSession, user_ids: Sequence[int]
    ) -> dict[int, ShopperContact]:
        """The users' addresses and names, by id (unknown ids are left out)."""
        wanted = sorted({user_id for user_id in user_ids if is_id(user_id)})
        if not wanted:
            return {}
        await _read_only(session)
        rows = await session.execute(
            select(User.id, User.email, User.name).where(User.id.in_(wanted))
        )
        return {row.id: ShopperContact(email=row.email, name=row.name or None) for row in rows}


def _contact(row: Sequence[Any] | None) -> ShopperContact | None:
    """A user's contact from the (email, name) row; None for no row."""
    if row is None:
        return None
    email, name = row
    return ShopperContact(email=email, name=name or None)


async def _read_only(session: AsyncSession) -> None:
    if not session.in_transaction():
        # The cart never writes the account domain: the transaction begins READ ONLY, so
        # the database refuses a write if one were ever asked for.
        await session.connection(execution_options={"postgresql_readonly": True})
