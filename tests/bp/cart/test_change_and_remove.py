"""Setting a line's quantity and removing lines, bookings and tickets; never someone else's."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, Ticket
from tests.bp.cart.helpers import (
    anonymous_cart,
    badge_counts,
    form_with_token,
    htmx,
    input_tag,
    lines_of,
    text,
)
from tests.support import factories as f
from tests.support.http import sign_in


async def state_of(db: AsyncSession, model: Any, row_id: int) -> str:
    return str(await db.scalar(select(model.state).where(model.id == row_id)))


async def test_set_quantity_answers_htmx_with_the_page_cart_badge_and_message(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery", "The Bakery")
    loaf = await f.product(db, page, "Sourdough loaf", "4.50")
    item = await f.cart_item(db, loaf, user_id=1, quantity=1)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/items/{item.id}/quantity/?next=/bakery/",
        headers=htmx(app, client),
        form={"quantity": "3", "view": "bakery"},
    )

    html = await text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="page-cart"')
    assert f'data-testid="line-total-{item.id}">£13.50' in html
    assert 'data-testid="page-subtotal">£13.50' in html
    assert badge_counts(html) == [3]
    assert '<div id="messages" hx-swap-oob="innerHTML">' in html
    assert "Sourdough loaf: quantity is now 3." in html
    assert await lines_of(db, user_id=1) == {loaf.id: 3}


async def test_set_quantity_zero_removes_the_line(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    item = await f.cart_item(db, await f.product(db, page, "Seeded rye"), user_id=1, quantity=4)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/items/{item.id}/quantity/?next=/bakery/", form=form_with_token(app, client, quantity="0")
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/bakery/"
    assert await lines_of(db, user_id=1) == {}


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("", "The quantity must be a whole number from 0 to 99."),
        ("two", "The quantity must be a whole number from 0 to 99."),
        ("-1", "The quantity must be a whole number from 0 to 99."),
        ("100", "The quantity must be a whole number from 0 to 99."),
    ],
)
async def test_a_bad_quantity_posted_without_javascript_is_shown_by_its_field(
    app: Quart, client: Any, db: AsyncSession, quantity: str, message: str
) -> None:
    page = await f.page(db, "bakery", "The Bakery")
    product = await f.product(db, page)
    item = await f.cart_item(db, product, user_id=1, quantity=2)
    await sign_in(app, client, 1)

    refused = await client.post(
        f"/items/{item.id}/quantity/?next=/bakery/",
        form=form_with_token(app, client, quantity=quantity),
    )
    html = await text(await client.get("/bakery/"))

    # No POST renders a page (seed 002): a 303 back, and the page shows the message by the
    # box, the box marked and described by it, and what was typed kept.
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/bakery/"
    field = input_tag(html, f"quantity-{item.id}")
    assert 'aria-invalid="true"' in field
    assert f'aria-describedby="quantity-{item.id}-error quantity-{item.id}-help"' in field
    assert f'value="{quantity}"' in field
    assert f'<p id="quantity-{item.id}-error"' in html
    assert f'data-testid="field-error">{message}</p>' in html
    assert message in html[html.index('id="alerts"') : html.index("<main")]
    assert await lines_of(db, user_id=1) == {product.id: 2}


async def test_a_bad_quantity_from_htmx_swaps_the_page_cart_with_the_field_marked(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery", "The Bakery")
    product = await f.product(db, page)
    item = await f.cart_item(db, product, user_id=1, quantity=2)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/items/{item.id}/quantity/?next=/bakery/",
        headers=htmx(app, client),
        form={"quantity": "-3", "view": "bakery"},
    )

    html = await text(response)
    message = "The quantity must be a whole number from 0 to 99."
    assert response.status_code == 400
    assert "HX-Retarget" not in response.headers  # the page cart, swapped in place
    assert html.lstrip().startswith('<section id="page-cart"')
    field = input_tag(html, f"quantity-{item.id}")
    assert 'aria-invalid="true"' in field and 'value="-3"' in field
    assert f'data-testid="field-error">{message}</p>' in html
    alerts = html[html.index('<div id="alerts" hx-swap-oob="innerHTML">') :]
    assert message in alerts and 'data-error-code="INVALID_QUANTITY"' in alerts
    assert await lines_of(db, user_id=1) == {product.id: 2}


async def test_the_quantity_box_allows_0_to_the_limit_and_says_0_removes_the_line(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery", "The Bakery")
    item = await f.cart_item(db, await f.product(db, page), user_id=1, quantity=2)
    await sign_in(app, client, 1)

    html = await text(await client.get("/bakery/"))

    field = input_tag(html, f"quantity-{item.id}")
    assert 'min="0" max="99"' in field
    assert 'aria-invalid="true"' not in field
    assert f'aria-describedby="quantity-{item.id}-help"' in field
    help_text = f'<p id="quantity-{item.id}-help" class="text-xs text-stone-600">'
    assert help_text + "0 removes the line</p>" in html


async def test_remove_line_from_the_overview_rerenders_the_overview(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    keep = await f.cart_item(db, await f.product(db, page, "Keep"), session_id="anon-cart-1")
    drop = await f.cart_item(db, await f.product(db, page, "Drop"), session_id="anon-cart-1")
    await anonymous_cart(app, client)

    response = await client.post(
        f"/items/{drop.id}/remove/", headers=htmx(app, client), form={"view": ""}
    )

    html = await text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="cart-overview"')
    assert "Removed Drop from your cart." in html
    assert badge_counts(html) == [1]
    assert await lines_of(db, session_id="anon-cart-1") == {keep.product_id: 1}


async def test_remove_a_booking_cancels_it(app: Quart, client: Any, db: AsyncSession) -> None:
    page = await f.page(db)
    entry = await f.booking(db, await f.calendar(db, page), session_id="anon-cart-1")
    await anonymous_cart(app, client)

    response = await client.post(
        f"/entries/{entry.id}/remove/?next=/bakery/", form=form_with_token(app, client)
    )

    assert response.status_code == 303
    assert await state_of(db, CalendarEntry, entry.id) == "cancelled"


async def test_remove_a_ticket_cancels_it(app: Quart, client: Any, db: AsyncSession) -> None:
    page = await f.page(db)
    tt = await f.ticket_type(db, await f.event(db, await f.calendar(db, page)))
    ticket = await f.ticket(db, tt, user_id=1)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/tickets/{ticket.id}/remove/", headers=htmx(app, client), form={"view": page.slug}
    )

    assert response.status_code == 200
    assert "Removed the ticket from your cart." in await text(response)
    assert await state_of(db, Ticket, ticket.id) == "cancelled"


async def test_another_shoppers_rows_answer_404_and_stay(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    product = await f.product(db, page)
    their_line = await f.cart_item(db, product, user_id=2, quantity=2)
    anon_line = await f.cart_item(db, product, session_id="someone-else")
    their_entry = await f.booking(db, cal, user_id=2)
    their_ticket = await f.ticket(db, await f.ticket_type(db, await f.event(db, cal)), user_id=2)
    await sign_in(app, client, 1)

    attempts = [
        (f"/items/{their_line.id}/quantity/", {"quantity": "5"}),
        (f"/items/{their_line.id}/remove/", {}),
        (f"/items/{anon_line.id}/remove/", {}),
        (f"/entries/{their_entry.id}/remove/", {}),
        (f"/tickets/{their_ticket.id}/remove/", {}),
    ]
    for path, fields in attempts:
        response = await client.post(path, form=form_with_token(app, client, **fields))
        assert response.status_code == 404, path

    assert await lines_of(db, user_id=2) == {product.id: 2}
    assert await lines_of(db, session_id="someone-else") == {product.id: 1}
    assert await state_of(db, CalendarEntry, their_entry.id) == "pending"
    assert await state_of(db, Ticket, their_ticket.id) == "pending"


async def test_a_browser_without_a_cart_changes_nothing(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    item = await f.cart_item(db, await f.product(db, await f.page(db)), user_id=1)

    response = await client.post(f"/items/{item.id}/remove/", form=form_with_token(app, client))

    assert response.status_code == 404
    assert await lines_of(db, user_id=1) == {item.product_id: 1}


async def test_an_ordered_booking_cannot_be_removed(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    entry = await f.booking(db, await f.calendar(db, await f.page(db)), user_id=1, state="ordered")
    await sign_in(app, client, 1)

    response = await client.post(f"/entries/{entry.id}/remove/", form=form_with_token(app, client))

    assert response.status_code == 404
    assert "That booking is not in your cart." in await text(response)
    assert await state_of(db, CalendarEntry, entry.id) == "ordered"


async def test_anonymous_ticket_removal_is_not_found(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    tt = await f.ticket_type(db, await f.event(db, await f.calendar(db, await f.page(db))))
    ticket = await f.ticket(db, tt, user_id=1)
    await anonymous_cart(app, client)

    response = await client.post(f"/tickets/{ticket.id}/remove/", form=form_with_token(app, client))

    assert response.status_code == 404
    assert await state_of(db, Ticket, ticket.id) == "pending"


@pytest.mark.parametrize(
    "path",
    [
        "/items/x/remove/",
        "/items/9223372036854775808/quantity/",
        "/entries/-4/remove/",
        "/tickets/123456789012345678901234567890/remove/",
    ],
)
async def test_malformed_ids_are_not_found(app: Quart, client: Any, path: str) -> None:
    await sign_in(app, client, 1)
    response = await client.post(path, form=form_with_token(app, client, quantity="1"))
    assert response.status_code == 404
