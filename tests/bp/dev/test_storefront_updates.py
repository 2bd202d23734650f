"""The storefront behaves as the market and events apps would: what a button or a count says
changes with the shopper's cart without a reload, and signing in for tickets comes back to the
event."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Ticket
from tests.bp.cart.helpers import anonymous_cart, badge_counts, form_with_token, htmx, text
from tests.bp.dev.test_storefront import shop_data
from tests.support.http import sign_in


def oob_element(html: str, element_id: str) -> str:
    """The out-of-band element with this id in an HTMX answer."""
    match = re.search(
        rf'<(\w+) id="{re.escape(element_id)}"[^>]*hx-swap-oob="true"[^>]*>(.*?)</\1>',
        html,
        re.S,
    )
    assert match, f"no out-of-band #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


async def test_booking_swaps_the_slots_button_for_in_your_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    slot_id = data["slot"].id
    await anonymous_cart(app, client)
    before = await text(await client.get("/dev/shop"))

    response = await client.post(f"/dev/shop/slots/{slot_id}/book", headers=htmx(app, client))

    html = await text(response)
    assert f'data-testid="book-slot-{slot_id}"' in before
    assert response.status_code == 200
    assert "Booked Taster session: it is in your cart." in html
    assert oob_element(html, f"slot-action-{slot_id}") == "In your cart"
    assert f'data-testid="book-slot-{slot_id}"' not in html
    assert badge_counts(html) == [1]
    # The page, loaded again, says the same.
    after = await text(await client.get("/dev/shop"))
    assert f'data-testid="slot-in-cart-{slot_id}"' in after
    assert f'data-testid="book-slot-{slot_id}"' not in after


async def test_buying_tickets_updates_the_types_count_out_of_band(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    standard, friends = data["standard"].id, data["friends"].id
    await sign_in(app, client, 1)

    first = await client.post(
        f"/dev/shop/ticket-types/{standard}/buy", headers=htmx(app, client), form={"quantity": "2"}
    )
    second = await client.post(
        f"/dev/shop/ticket-types/{standard}/buy", headers=htmx(app, client), form={"quantity": "1"}
    )
    unlimited = await client.post(
        f"/dev/shop/ticket-types/{friends}/buy", headers=htmx(app, client), form={"quantity": "4"}
    )
    shop = await text(await client.get("/dev/shop"))

    # Tickets in a cart are not sold (seed 004): five are still left, and the shopper's are
    # counted beside them.
    assert oob_element(await text(first), f"available-{standard}") == "5 left · 2 in your cart"
    assert oob_element(await text(second), f"available-{standard}") == "5 left · 3 in your cart"
    assert badge_counts(await text(second)) == [3]
    assert oob_element(await text(unlimited), f"available-{friends}") == (
        "Tickets available · 4 in your cart"
    )
    assert re.search(rf'data-testid="available-{standard}">\s*5 left · <span', shop)
    assert f'data-testid="in-cart-{standard}">3 in your cart' in shop


async def test_buying_more_than_is_left_is_refused(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    await sign_in(app, client, 1)
    path = f"/dev/shop/ticket-types/{data['standard'].id}/buy"

    fits = await client.post(path, headers=htmx(app, client), form={"quantity": "4"})
    too_many = await client.post(path, headers=htmx(app, client), form={"quantity": "2"})

    assert fits.status_code == 200
    assert too_many.status_code == 409
    assert "Only 5 Standard tickets for Folk night are left, so your cart can hold at most 5." in (
        await text(too_many)
    )
    count = await db.scalar(select(func.count(Ticket.id)).where(Ticket.user_id == 1))
    assert count == 4


async def test_signing_in_for_tickets_comes_back_to_the_event(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    event_id = data["event"].id
    await anonymous_cart(app, client)

    shop = await text(await client.get("/dev/shop"))
    link = f"/dev/sign-in?next=/dev/shop%23event-{event_id}"
    sign_in_page = await text(await client.get(link))
    signed_in = await client.post(
        f"/dev/sign-in?next=/dev/shop%23event-{event_id}",
        form=form_with_token(app, client, user_id="1"),
    )

    assert f'<div id="event-{event_id}"' in shop
    assert f'href="{link}" data-testid="sign-in-to-buy-{data["standard"].id}"' in shop
    assert f'action="/dev/sign-in?next=/dev/shop%23event-{event_id}"' in sign_in_page
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == f"/dev/shop#event-{event_id}"


async def test_sign_in_refuses_a_next_that_leaves_the_site(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await anonymous_cart(app, client)

    for target in ("//evil.example/%23event-1", "https://evil.example/dev/shop%23event-1"):
        response = await client.post(
            f"/dev/sign-in?next={target}", form=form_with_token(app, client, user_id="1")
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/"
