"""Tickets by quantity: one line per event and type in the page cart, and its number changed
with POST /tickets/types/<id>/quantity/ (never another shopper's tickets, never beyond what is
left to sell)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lib.csrf import sign
from models import Ticket, TicketType
from tests.bp.cart.helpers import anonymous_cart, badge_counts, form_with_token, htmx, text
from tests.support import factories as f
from tests.support.checkout import served
from tests.support.http import secret_key_of, settings_of, sign_in, write_shared_session
from tests.support.standin import free_port

# Tabs of one shopper setting the number of one type of ticket at the same moment.
RACING_QUANTITIES = (2, 3, 4, 5, 6, 7)
RACE_ROUNDS = 3


async def hall_tickets(
    db: AsyncSession, *, standard: int = 2, concession: int = 1
) -> dict[str, Any]:
    """The hall's Folk night: `standard` Standard (12.00, 10 seats) and `concession` Concession
    (8.00) tickets in user 1's cart; user 2 holds two Standard tickets of their own."""
    hall = await f.page(db, "hall", "Community Hall")
    event = await f.event(db, await f.calendar(db, hall), "Folk night")
    standard_type = await f.ticket_type(db, event, "Standard", cost="12.00", capacity=10)
    concession_type = await f.ticket_type(db, event, "Concession", cost="8.00")
    mine = [await f.ticket(db, standard_type, user_id=1) for _ in range(standard)]
    mine += [await f.ticket(db, concession_type, user_id=1) for _ in range(concession)]
    theirs = [await f.ticket(db, standard_type, user_id=2) for _ in range(2)]
    return {
        "event": event,
        "standard": standard_type,
        "concession": concession_type,
        "mine": mine,
        "theirs": theirs,
    }


def group_key(data: dict[str, Any], kind: str) -> str:
    return f"{data['event'].id}-{data[kind].id}"


def group_html(html: str, key: str) -> str:
    """The page cart's line of one ticket group."""
    start = html.index(f'data-testid="ticket-group-{key}"')
    return html[start : html.index("</li>", start)]


async def pending(db: AsyncSession, user_id: int, ticket_type: TicketType) -> list[int]:
    """Ids of the user's pending tickets of the type, oldest first."""
    rows = await db.scalars(
        select(Ticket.id)
        .where(
            Ticket.user_id == user_id,
            Ticket.ticket_type_id == ticket_type.id,
            Ticket.state == "pending",
        )
        .order_by(Ticket.id)
    )
    return list(rows)


async def set_quantity(
    app: Quart, client: Any, ticket_type: TicketType, quantity: str, **extra: str
) -> Any:
    return await client.post(
        f"/tickets/types/{ticket_type.id}/quantity/?next=/hall/",
        headers=htmx(app, client),
        form={"quantity": quantity, "view": "hall", **extra},
    )


async def test_tickets_of_one_type_are_one_line_with_a_quantity_and_a_line_total(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=3, concession=1)
    await sign_in(app, client, 1)

    html = await text(await client.get("/hall/"))
    overview = await text(await client.get("/"))

    standard = group_html(html, group_key(data, "standard"))
    concession = group_html(html, group_key(data, "concession"))
    assert html.count('data-testid="ticket-group-') == 2
    assert "Folk night · Standard" in standard and "£12.00 each" in standard
    assert 'data-quantity="3"' in standard
    assert re.search(r'name="quantity" type="number"[^>]*value="3"', standard)
    assert f'action="/tickets/types/{data["standard"].id}/quantity/?next=/hall/"' in standard
    assert f'data-testid="ticket-line-total-{group_key(data, "standard")}">£36.00' in standard
    assert 'data-quantity="1"' in concession and ">£8.00<" in concession
    assert 'data-testid="tickets-total">£44.00' in html
    assert 'data-testid="page-subtotal">£44.00' in html
    assert re.search(r'data-testid="page-counts">[^<]*4 tickets', html)
    assert re.search(r'data-testid="ticket-count">4 tickets<', overview)
    assert badge_counts(html) == [4]


async def test_raising_the_quantity_adds_pending_tickets(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db)
    await sign_in(app, client, 1)

    response = await set_quantity(app, client, data["standard"], "5")

    html = await text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="page-cart"')
    assert 'data-quantity="5"' in group_html(html, group_key(data, "standard"))
    assert 'data-testid="tickets-total">£68.00' in html
    assert "Folk night, Standard: 5 tickets in your cart." in html
    assert badge_counts(html) == [6]
    assert '<a id="cart-mini" href="/" hx-swap-oob="true"' in html
    mine = await pending(db, 1, data["standard"])
    assert len(mine) == 5 and mine[:2] == [t.id for t in data["mine"][:2]]
    codes = await db.scalars(select(Ticket.code).where(Ticket.id.in_(mine)))
    assert len(set(codes)) == 5


async def test_lowering_the_quantity_takes_out_the_newest_tickets(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=4)
    await sign_in(app, client, 1)

    response = await set_quantity(app, client, data["standard"], "1")

    assert response.status_code == 200
    assert "Folk night, Standard: 1 ticket in your cart." in await text(response)
    assert await pending(db, 1, data["standard"]) == [data["mine"][0].id]
    newest = [t.id for t in data["mine"][1:4]]
    states = await db.scalars(select(Ticket.state).where(Ticket.id.in_(newest)))
    assert set(states) == {"cancelled"}


async def test_zero_removes_the_group_and_says_so(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=2)
    await sign_in(app, client, 1)

    response = await set_quantity(app, client, data["standard"], "0")

    html = await text(response)
    assert "Removed the Standard tickets for Folk night from your cart." in html
    assert f'data-testid="ticket-group-{group_key(data, "standard")}"' not in html
    assert f'data-testid="ticket-group-{group_key(data, "concession")}"' in html
    assert badge_counts(html) == [1]
    assert await pending(db, 1, data["standard"]) == []


async def test_without_htmx_the_answer_is_a_redirect_back(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/tickets/types/{data['standard'].id}/quantity/?next=/hall/",
        form=form_with_token(app, client, quantity="3"),
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/hall/"
    assert len(await pending(db, 1, data["standard"])) == 3


@pytest.mark.parametrize(
    ("quantity", "status", "message"),
    [
        ("-1", 400, "The quantity must be a whole number from 0 to 99."),
        ("100", 400, "The quantity must be a whole number from 0 to 99."),
        ("1000000000", 400, "The quantity must be a whole number from 0 to 99."),
        ("two", 400, "The quantity must be a whole number from 0 to 99."),
        ("2.5", 400, "The quantity must be a whole number from 0 to 99."),
        ("", 400, "The quantity must be a whole number from 0 to 99."),
        # Ten seats, two held by another shopper's cart: pending tickets are not sold.
        ("11", 409, "Only 10 Standard tickets for Folk night are left"),
    ],
)
async def test_bad_quantities_are_refused_with_a_message(
    app: Quart, client: Any, db: AsyncSession, quantity: str, status: int, message: str
) -> None:
    data = await hall_tickets(db)
    await sign_in(app, client, 1)

    response = await set_quantity(app, client, data["standard"], quantity)

    assert response.status_code == status
    assert message in await text(response)
    assert len(await pending(db, 1, data["standard"])) == 2


async def test_up_to_what_is_left_may_be_added(app: Quart, client: Any, db: AsyncSession) -> None:
    data = await hall_tickets(db)
    # Sold: reserved, confirmed and checked in count; another cart's pending tickets do not.
    for state in ("reserved", "confirmed", "checked_in"):
        await f.ticket(db, data["standard"], user_id=9, state=state)
    await sign_in(app, client, 1)

    too_many = await set_quantity(app, client, data["standard"], "8")
    all_left = await set_quantity(app, client, data["standard"], "7")

    assert too_many.status_code == 409
    assert "Only 7 Standard tickets for Folk night are left" in await text(too_many)
    assert all_left.status_code == 200
    assert len(await pending(db, 1, data["standard"])) == 7


async def test_fewer_may_be_kept_even_when_the_type_sold_out_meanwhile(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=3)
    for _ in range(10):
        await f.ticket(db, data["standard"], user_id=9, state="confirmed")
    await sign_in(app, client, 1)

    more = await set_quantity(app, client, data["standard"], "4")
    fewer = await set_quantity(app, client, data["standard"], "2")

    assert more.status_code == 409
    assert "Standard tickets for Folk night are sold out." in await text(more)
    assert fewer.status_code == 200
    assert len(await pending(db, 1, data["standard"])) == 2


async def test_another_shoppers_tickets_are_untouched(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=1)
    await sign_in(app, client, 1)

    await set_quantity(app, client, data["standard"], "3")
    await set_quantity(app, client, data["standard"], "0")

    assert await pending(db, 1, data["standard"]) == []
    assert await pending(db, 2, data["standard"]) == [t.id for t in data["theirs"]]


async def test_an_anonymous_shopper_is_asked_to_sign_in(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db)
    await anonymous_cart(app, client)

    response = await set_quantity(app, client, data["standard"], "1")

    assert response.status_code == 401
    assert "Please sign in to buy tickets" in await text(response)
    assert len(await pending(db, 1, data["standard"])) == 2


async def test_unknown_types_and_tickets_not_in_the_cart_are_not_found(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, concession=0)
    await sign_in(app, client, 1)

    unknown = await client.post(
        "/tickets/types/424242/quantity/", headers=htmx(app, client), form={"quantity": "1"}
    )
    none_to_remove = await set_quantity(app, client, data["concession"], "0")

    assert unknown.status_code == 404
    assert "Those tickets do not exist." in await text(unknown)
    assert none_to_remove.status_code == 404
    assert "Those tickets are not in your cart." in await text(none_to_remove)


async def test_quantity_changes_racing_over_http_leave_one_of_the_counts(
    app: Quart, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=1)
    sid = await write_shared_session(app, {"user_id": 1})
    cookies = {settings_of(app).session_cookie_key: sid}
    headers = {"HX-Request": "true", "X-CSRF-Token": sign(secret_key_of(app), sid)}
    path = f"/tickets/types/{data['standard'].id}/quantity/"

    async with served(app, free_port()) as base_url:
        # One connection per tab, each opened before the start line.
        tabs = [
            httpx.AsyncClient(base_url=base_url, cookies=cookies, headers=headers, timeout=30)
            for _ in RACING_QUANTITIES
        ]
        try:
            await asyncio.gather(*(tab.get("/healthz") for tab in tabs))
            for _ in range(RACE_ROUNDS):
                responses = await asyncio.gather(
                    *(
                        tab.post(path, data={"quantity": str(quantity), "view": "hall"})
                        for tab, quantity in zip(tabs, RACING_QUANTITIES, strict=True)
                    )
                )
                assert [r.status_code for r in responses] == [200] * len(RACING_QUANTITIES)
                assert len(await pending(db, 1, data["standard"])) in RACING_QUANTITIES
                # Back to one, so that the next round changes the count again.
                await tabs[0].post(path, data={"quantity": "1", "view": "hall"})
        finally:
            await asyncio.gather(*(tab.aclose() for tab in tabs))

    assert await pending(db, 2, data["standard"]) == [t.id for t in data["theirs"]]


async def test_tickets_whose_type_is_gone_are_one_line_removed_one_at_a_time(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await hall_tickets(db, standard=2, concession=0)
    # The events app deleted the type: its tickets keep their event, at the event's price.
    await db.delete(data["standard"])
    await db.commit()
    await sign_in(app, client, 1)

    html = await text(await client.get("/hall/"))

    line = group_html(html, f"{data['event'].id}-none")
    newest = max(t.id for t in data["mine"])
    assert 'data-quantity="2"' in line and "£10.00 each" in line
    assert "/tickets/types/" not in line
    assert f'data-testid="remove-ticket-{newest}"' in line
    assert 'data-testid="tickets-total">£20.00' in html
