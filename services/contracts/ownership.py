"""Who owns a row: one rule for orders, cart lines, bookings and tickets, in SQL and in Python.

A signed-in identity owns the rows with its `user_id`. An anonymous identity owns the rows of
its session that no user holds: `session_id` matches and `user_id` IS NULL. Adoption at sign-in
gives a session's rows to the user (an order keeps its session id, for the record), so the
same cart id seen again later (it is derived from the browser's CSRF cookie) never reaches
what the user now owns.

Every query and check that decides whether a shopper may see or change one of these rows uses
`owned_by` (SQL) or `owns` (Python); they agree by construction and by test.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, and_, bindparam

from models import CalendarEntry, CartItem, Order, Ticket
from services.contracts.dtos import CartIdentity

OwnedModel = type[Order] | type[CartItem] | type[CalendarEntry] | type[Ticket]
# The owner's bound parameters in statements built once (`owned_by_bound`, `owner_params`).
OWNER_USER_ID = "owner_user_id"
OWNER_SESSION_ID = "owner_session_id"


class OwnedRow(Protocol):
    """A row with an owner: a user, or an anonymous session."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def session_id(self) -> str | None: ...


def owned_by(model: OwnedModel, identity: CartIdentity) -> ColumnElement[bool]:
    """The SQL condition: rows of `model` that `identity` owns."""
    if identity.user_id is not None:
        return model.user_id == identity.user_id
    return and_(model.session_id == identity.session_id, model.user_id.is_(None))


def owned_by_bound(model: OwnedModel, *, signed_in: bool) -> ColumnElement[bool]:
    """`owned_by` for a statement built once, the owner bound at execution (`owner_params`):
    a signed-in identity's rule, or an anonymous one's."""
    if signed_in:
        return model.user_id == bindparam(OWNER_USER_ID)
    return and_(model.session_id == bindparam(OWNER_SESSION_ID), model.user_id.is_(None))


def owner_params(identity: CartIdentity) -> dict[str, object]:
    """The parameters of `owned_by_bound(..., signed_in=identity.is_user)` for `identity`."""
    if identity.user_id is not None:
        return {OWNER_USER_ID: identity.user_id}
    return {OWNER_SESSION_ID: identity.session_id}


def owns(identity: CartIdentity | None, row: OwnedRow) -> bool:
    """Whether `identity` owns `row` (nobody owns anything without an identity)."""
    if identity is None:
        return False
    if identity.user_id is not None:
        return row.user_id == identity.user_id
    return row.user_id is None and row.session_id == identity.session_id


def owner_of(row: OwnedRow) -> CartIdentity:
    """The identity that owns `row`: its user once it has one, else its session."""
    if row.user_id is not None:
        return CartIdentity(user_id=row.user_id)
    return CartIdentity(session_id=row.session_id)
