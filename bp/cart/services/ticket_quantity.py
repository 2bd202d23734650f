"""How many tickets of one type a shopper has in the cart: add some, or set the number.

One rule for every way tickets come in (the events app's "buy", the cart's quantity box):
tickets need a signed-in shopper (seed 004), and a cart may hold up to what is still available
(pending tickets are not sold, so they do not count against it; checkout checks again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import rolled_back_on_error
from lib.error_codes import ErrorCode
from lib.errors import NotFound, ServiceError
from services.contracts.dtos import CartIdentity, TicketTypeDTO
from services.registry import DomainServices


@dataclass(frozen=True, slots=True)
class TicketChange:
    """A shopper's tickets of one type, before and after a change."""

    ticket_type: str
    event: str
    before: int
    after: int

    @property
    def added(self) -> int:
        return max(self.after - self.before, 0)

    @property
    def removed(self) -> int:
        return max(self.before - self.after, 0)

    @property
    def message(self) -> str:
        """What the shopper is told about their cart now."""
        if self.after == 0:
            noun = "ticket" if self.before == 1 else "tickets"
            return f"Removed the {self.ticket_type} {noun} for {self.event} from your cart."
        noun = "ticket" if self.after == 1 else "tickets"
        return f"{self.event}, {self.ticket_type}: {self.after} {noun} in your cart."


class SignInRequired(ServiceError):
    """Tickets live in a signed-in shopper's cart only."""

    def __init__(self) -> None:
        super().__init__(401, ErrorCode.SIGN_IN_REQUIRED)


def signed_in_user(identity: CartIdentity | None) -> int:
    """The user whose tickets change; 401 for a shopper who is not signed in."""
    if identity is None or identity.user_id is None:
        raise SignInRequired()
    return identity.user_id


async def add_tickets(
    session: AsyncSession,
    *,
    user_id: int,
    ticket_type_id: int,
    quantity: int,
    domains: DomainServices,
) -> TicketChange:
    """Put `quantity` more tickets of the type in the user's cart."""
    return await _change(
        session,
        user_id=user_id,
        ticket_type_id=ticket_type_id,
        target=lambda before: before + quantity,
        domains=domains,
    )


async def set_ticket_quantity(
    session: AsyncSession,
    *,
    user_id: int,
    ticket_type_id: int,
    quantity: int,
    domains: DomainServices,
) -> TicketChange:
    """Have exactly `quantity` tickets of the type in the user's cart: new pending tickets
    are added, or the newest pending ones taken out; 0 takes them all out."""
    return await _change(
        session,
        user_id=user_id,
        ticket_type_id=ticket_type_id,
        target=lambda _before: quantity,
        domains=domains,
    )


async def _change(
    session: AsyncSession,
    *,
    user_id: int,
    ticket_type_id: int,
    target: Callable[[int], int],
    domains: DomainServices,
) -> TicketChange:
    """One transaction: hold the count, check the new one fits, add or take out the difference."""
    calendar = domains.calendar
    async with rolled_back_on_error(session):
        ticket_type = await calendar.ticket_type(session, ticket_type_id=ticket_type_id)
        if ticket_type is None:
            raise NotFound(ErrorCode.TICKET_TYPE_NOT_FOUND)
        before = await calendar.lock_pending_tickets(
            session, user_id=user_id, ticket_type_id=ticket_type_id
        )
        after = target(before)
        if after > before:
            await _check_available(session, ticket_type=ticket_type, wanted=after, domains=domains)
            await calendar.add_pending_tickets(
                session, user_id=user_id, ticket_type_id=ticket_type_id, count=after - before
            )
        elif after < before:
            await calendar.remove_newest_pending_tickets(
                session, user_id=user_id, ticket_type_id=ticket_type_id, count=before - after
            )
        if after == 0 and before == 0:
            raise NotFound(ErrorCode.TICKET_TYPE_NOT_IN_CART)
        await session.commit()
    return TicketChange(
        ticket_type=ticket_type.name, event=ticket_type.entry_name, before=before, after=after
    )


async def _check_available(
    session: AsyncSession, *, ticket_type: TicketTypeDTO, wanted: int, domains: DomainServices
) -> None:
    """409 when the cart would hold more tickets of the type than are left to sell."""
    left = (
        await domains.calendar.ticket_availability(session, ticket_type_ids=[ticket_type.id])
    ).get(ticket_type.id)
    if left is None or wanted <= left:
        return
    event = ticket_type.entry_name
    if left == 0:
        raise ServiceError(409, ErrorCode.SOLD_OUT, ticket_type=ticket_type.name, event=event)
    raise ServiceError(
        409, ErrorCode.NOT_ENOUGH_TICKETS, left=left, ticket_type=ticket_type.name, event=event
    )
