"""The account domain over its `users` table, read-only, through the account engine's session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lib.ids import is_id
from models import User
from services.contracts.dtos import ShopperContact


class SqlAccountService:
    """Shoppers' names and e-mail addresses (the account app owns and writes them)."""

    async def shopper_contact(self, session: AsyncSession, user_id: int) -> ShopperContact | None:
        """The user's address and name, in a read-only transaction; None for an unknown user."""
        if not is_id(user_id):
            return None
        if not session.in_transaction():
            # The cart never writes the account domain: the transaction begins READ ONLY, so
            # the database refuses a write if one were ever asked for.
            await session.connection(execution_options={"postgresql_readonly": True})
        row = (
            await session.execute(select(User.email, User.name).where(User.id == user_id))
        ).first()
        if row is None:
            return None
        email, name = row
        return ShopperContact(email=email, name=name or None)
