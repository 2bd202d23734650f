"""A 19:00 event in British Summer Time reads 19:00 BST wherever a shopper sees it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from quart import Quart, render_template_string
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, Order, OrderItem
from tests.support import factories as f
from tests.support.http import sign_in

SUMMER_EVENING = datetime(2027, 7, 3, 18, 0, tzinfo=UTC)
SHOWN = "Sat, 3 Jul 2027, 19:00 BST"


async def test_the_cart_shows_a_summer_booking_and_ticket_at_19_bst(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    bakery = await f.page(db, "bakery", "The Bakery")
    calendar = await f.calendar(db, bakery)
    slot = await f.slot(db, calendar, start_at=SUMMER_EVENING, name="Bread class")
    await f.slot_booking(db, slot, user_id=7)
    event = await f.event(db, calendar, "Harvest supper")
    event.start_at = SUMMER_EVENING
    await db.commit()
    await f.ticket(db, await f.ticket_type(db, event), user_id=7)
    await sign_in(app, client, 7)

    html = await (await client.get("/bakery/")).get_data(as_text=True)

    assert html.count(SHOWN) == 2
    # The machine-readable datetime attribute stays UTC; nothing a person reads does.
    assert "18:00" not in re.sub(r"<[^>]+>", " ", html)


async def test_the_order_page_shows_the_booking_in_local_time(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    bakery = await f.page(db, "bakery", "The Bakery")
    calendar = await f.calendar(db, bakery)
    slot = await f.slot(db, calendar, start_at=SUMMER_EVENING, name="Bread class")
    order = Order(
        user_id=7,
        status="paid",
        currency="GBP",
        total_amount=Decimal("12.00"),
        paid_at=datetime(2027, 6, 30, 23, 30, tzinfo=UTC),
    )
    db.add(order)
    await db.flush()
    entry = await f.slot_booking(db, slot, user_id=7, state="confirmed", order_id=order.id)
    db.add(
        OrderItem(
            order_id=order.id,
            kind="booking",
            ref_id=entry.id,
            title="Bread class",
            quantity=1,
            unit_price=Decimal("12.00"),
            line_total=Decimal("12.00"),
        )
    )
    await db.commit()
    await sign_in(app, client, 7)

    html = await (await client.get(f"/orders/{order.id}/")).get_data(as_text=True)

    assert SHOWN in html
    # Paid at 23:30 UTC on 30 June: already 1 July in London.
    assert "Thu, 1 Jul 2027, 00:30 BST" in html
    assert isinstance(entry, CalendarEntry)


async def test_the_template_filters_use_the_coops_zone_and_locale(
    app_config: dict[str, Any], clean_state: None
) -> None:
    from app import create_app

    application = create_app({**app_config, "time_zone": "Europe/Paris", "locale": "de_DE"})
    async with application.test_app(), application.test_request_context("/"):
        when = await render_template_string("{{ t | local_datetime }}", t=SUMMER_EVENING)
        day = await render_template_string("{{ t | local_date }}", t=SUMMER_EVENING)
        money = await render_template_string("{{ x | money('EUR') }}", x=Decimal("1234.5"))
    assert when.startswith("Sa., 3. Juli 2027, 20:00")
    assert day == "3. Juli 2027"
    assert money == "1.234,50\xa0€"
