"""A cart line, a booking and a ticket are their owner's alone: any other identity gets a 404.

Owners are a user, an anonymous cart, and (for bookings and tickets, whose tables allow it) a
row a user adopted that still names the anonymous cart it came from.
"""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, CartItem, Ticket
from tests.bp.cart.helpers import form_with_token, visit_as
from tests.support import factories as f
from tests.support.checkout import fresh

USER = {"user_id": 2}
ANONYMOUS = {"session_id": "their-cart"}
ADOPTED = {"user_id": 2, "session_id": "my-cart"}


async def refused(app: Quart, client: Any, path: str, **fields: str) -> int:
    response = await client.post(path, form=form_with_token(app, client, **fields))
    return int(response.status_code)


@pytest.mark.parametrize("who", ["user", "anonymous"])
@pytest.mark.parametrize("owner", [USER, ANONYMOUS], ids=["a user's", "an anonymous cart's"])
async def test_another_identitys_line_is_not_found(
    app: Quart, client: Any, db: AsyncSession, owner: dict[str, Any], who: str
) -> None:
    line = await f.cart_item(db, await f.product(db, await f.page(db)), quantity=2, **owner)
    await visit_as(app, client, who)

    assert await refused(app, client, f"/items/{line.id}/quantity/", quantity="5") == 404
    assert await refused(app, client, f"/items/{line.id}/remove/") == 404
    row = await fresh(db, CartItem, line.id)
    assert (row.quantity, row.deleted_at) == (2, None)


@pytest.mark.parametrize("who", ["user", "anonymous"])
@pytest.mark.parametrize(
    "owner", [USER, ANONYMOUS, ADOPTED], ids=["a user's", "an anonymous cart's", "an adopted"]
)
async def test_another_identitys_booking_is_not_found(
    app: Quart, client: Any, db: AsyncSession, owner: dict[str, Any], who: str
) -> None:
    entry = await f.booking(db, await f.calendar(db, await f.page(db)), **owner)
    await visit_as(app, client, who)

    assert await refused(app, client, f"/entries/{entry.id}/remove/") == 404
    assert (await fresh(db, CalendarEntry, entry.id)).state == "pending"


@pytest.mark.parametrize("who", ["user", "anonymous"])
@pytest.mark.parametrize("adopted", [False, True], ids=["a user's", "an adopted"])
async def test_another_identitys_ticket_is_not_found(
    app: Quart, client: Any, db: AsyncSession, adopted: bool, who: str
) -> None:
    calendar = await f.calendar(db, await f.page(db))
    ticket = await f.ticket(db, await f.ticket_type(db, await f.event(db, calendar)), user_id=2)
    if adopted:
        ticket.session_id = "my-cart"
        await db.commit()
    await visit_as(app, client, who)

    assert await refused(app, client, f"/tickets/{ticket.id}/remove/") == 404
    assert (await fresh(db, Ticket, ticket.id)).state == "pending"
