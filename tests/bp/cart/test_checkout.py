"""POST /<page_slug>/checkout/ and /checkout/: the order made once from database prices, then
SumUp's hosted checkout (the stand-in, over HTTP), and the way back to a paid order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.cart.services.merchants import set_page_merchant
from bp.runtime import runtime
from models import CalendarEntry, Order, OrderItem, Product, Ticket, utcnow
from tests.support import factories as f
from tests.support.checkout import (
    BAKERY_TOTAL,
    BAKERY_TOTAL_ANONYMOUS,
    HOSTED_URL,
    SITE_MERCHANT,
    all_orders,
    anonymous_shopper,
    events_of,
    live_lines,
    only_order,
    pay_on_hosted_page,
    payments_config,
    post_checkout,
    shop_with_cart,
    state_of,
    text,
)
from tests.support.http import csrf_token, settings_of, sign_in
from tests.support.standin import StandinControl


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def test_a_shopper_checks_out_a_page_pays_and_comes_back_to_a_paid_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    hosted_url = response.headers["Location"]
    assert HOSTED_URL.match(hosted_url), hosted_url
    order = await only_order(db)
    assert order.status == "pending"
    assert order.user_id == 7 and order.page_id == shop.bakery.id
    assert order.total_amount == Decimal(BAKERY_TOTAL)
    assert order.currency == "GBP"
    assert order.merchant_code == SITE_MERCHANT
    assert order.attempt == 1 and order.sumup_reference == f"rose-{order.id}-1"
    assert order.sumup_hosted_url == hosted_url
    items = list(await db.scalars(select(OrderItem).where(OrderItem.order_id == order.id)))
    assert sorted((i.kind, i.title, i.quantity, i.unit_price) for i in items) == [
        ("booking", "Bread class", 1, Decimal("12.00")),
        ("product", "Seeded rye", 1, Decimal("3.80")),
        ("product", "Sourdough loaf", 2, Decimal("4.50")),
        ("ticket", "Harvest supper (Standard)", 1, Decimal("12.00")),
    ]
    assert await state_of(db, CalendarEntry, shop.booking.id) == "ordered"
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "reserved"
    assert len(await events_of(db, "order.created", order.id)) == 1

    # SumUp got the order's amount, reference, webhook and way back.
    [checkout] = await sumup_standin_control.checkouts()
    assert checkout["id"] == order.sumup_checkout_id
    assert Decimal(str(checkout["amount"])) == Decimal(BAKERY_TOTAL)
    assert checkout["currency"] == "GBP"
    assert checkout["merchant_code"] == SITE_MERCHANT
    assert checkout["checkout_reference"] == order.sumup_reference
    assert checkout["return_url"] == f"http://127.0.0.1:9/checkout/webhook/{order.id}/"
    assert checkout["redirect_url"] == f"http://127.0.0.1:9/checkout/return/{order.id}/"
    assert checkout["valid_until"] is not None

    success_page = await pay_on_hosted_page(hosted_url)
    assert f"/checkout/return/{order.id}/" in success_page

    back = await client.get(f"/checkout/return/{order.id}/")
    html = await text(back)
    assert back.status_code == 200
    assert "Thank you, your payment was received" in html
    assert 'data-state="paid"' in html
    assert f'href="/orders/{order.id}/"' in html
    order = await only_order(db)
    assert order.status == "paid" and order.paid_at is not None
    assert order.sumup_transaction_code and order.sumup_transaction_id
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"
    assert await state_of(db, Ticket, shop.ticket.id) == "confirmed"
    # The bakery's lines left the cart; the garden's stayed.
    assert await live_lines(db, user_id=7) == {shop.compost.id: 1}
    assert len(await events_of(db, "order.paid", order.id)) == 1
    page = await text(await client.get("/bakery/"))
    assert "Sourdough loaf" not in page


async def test_an_anonymous_shopper_checks_out_products_and_bookings(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    sid = await anonymous_shopper(app, client)
    shop = await shop_with_cart(db, session_id=sid)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    order = await only_order(db)
    assert order.session_id == sid and order.user_id is None
    assert order.total_amount == Decimal(BAKERY_TOTAL_ANONYMOUS)
    assert await state_of(db, CalendarEntry, shop.booking.id) == "ordered"


async def test_htmx_checkout_is_sent_to_sumup_with_hx_redirect(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery", htmx=True)

    assert response.status_code == 200
    assert HOSTED_URL.match(response.headers["HX-Redirect"])


async def test_prices_come_from_the_database_not_from_the_cart_or_the_form(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await db.execute(
        update(Product).where(Product.id == shop.loaf.id).values(price=Decimal("5.00"))
    )
    await db.commit()
    await sign_in(app, client, 7)

    await client.post(
        "/bakery/checkout/",
        form={"csrf_token": csrf_token(app, client), "total": "0.01", "price": "0.01"},
    )

    order = await only_order(db)
    assert order.total_amount == Decimal(BAKERY_TOTAL) + Decimal("1.00")


async def test_an_empty_cart_cannot_be_checked_out(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await f.page(db, "bakery")
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 400
    assert "Your cart is empty" in await text(response)
    assert await all_orders(db) == []


async def test_a_browser_without_a_cart_gets_the_empty_cart_message(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await f.page(db, "bakery")

    response = await post_checkout(app, client, "bakery", htmx=True)

    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#alerts"
    assert "Your cart is empty" in await text(response)


async def test_checkout_of_an_unknown_page_is_404(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "no-such-page")

    assert response.status_code == 404


async def test_checkout_without_a_csrf_token_is_refused(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    response = await client.post("/bakery/checkout/")

    assert response.status_code == 403
    assert await all_orders(db) == []


async def test_products_deleted_since_they_were_added_are_left_out_with_a_message(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await db.execute(update(Product).where(Product.id == shop.rye.id).values(deleted_at=utcnow()))
    await db.commit()
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery")

    # Seed 002: the POST redirects to the order's review page, which a reload shows again.
    order = await only_order(db)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/{order.id}/review/"
    for _ in range(2):
        page = await client.get(response.headers["Location"])
        html = await text(page)
        assert page.status_code == 200
        assert "“Seeded rye”" in html and "left out" in html
        assert order.total_amount == Decimal(BAKERY_TOTAL) - Decimal("3.80")
        assert f'href="{order.sumup_hosted_url}"' in html
        assert 'id="continue-to-payment"' in html


async def test_sold_out_tickets_are_refused_at_checkout(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7, ticket_capacity=1)
    # Someone else bought the last one at the door.
    await f.ticket(db, shop.ticket_type, user_id=99, state="confirmed")
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 409
    assert "sold out" in await text(response)
    assert await all_orders(db) == []
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "pending"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"


async def test_a_page_without_a_merchant_gets_a_clear_error_page(
    app_config: dict[str, Any], clean_state: None
) -> None:
    application = create_app({**app_config, "sumup_merchant_code": None, "sumup_api_key": None})
    async with application.test_app():
        async with runtime(application).databases.sessionmaker() as session:
            await shop_with_cart(session, user_id=7)
        client = application.test_client()
        await sign_in(application, client, 7)
        response = await post_checkout(application, client, "bakery")
        html = await text(response)
        async with runtime(application).databases.sessionmaker() as session:
            orders = list(await session.scalars(select(Order)))

    assert response.status_code == 409
    assert "cannot take card payments yet" in html
    assert "The Bakery" in html
    assert orders == []


async def test_a_page_with_its_own_merchant_is_paid_to_it(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await set_page_merchant(
        db,
        settings=settings_of(app),
        page_id=shop.bakery.id,
        merchant_code="MBAKERY1",
        api_key="sup_sk_bakery_key",
        checkout_prefix="bakery-",
    )
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    order = await only_order(db)
    assert order.merchant_code == "MBAKERY1"
    assert order.sumup_reference == f"bakery-{order.id}-1"
    [checkout] = await sumup_standin_control.checkouts()
    assert checkout["merchant_code"] == "MBAKERY1"
    # The page's key is the one that reads it; the site's key cannot see that merchant.
    await sumup_standin_control.revoke_key("sup_sk_test")
    await pay_on_hosted_page(response.headers["Location"])
    back = await client.get(f"/checkout/return/{order.id}/")
    assert "Thank you" in await text(back)
    assert (await only_order(db)).status == "paid"


async def test_the_page_api_key_is_stored_sealed_and_never_shown(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    config = await set_page_merchant(
        db,
        settings=settings_of(app),
        page_id=shop.bakery.id,
        merchant_code="MBAKERY1",
        api_key="sup_sk_very_secret_key",
        checkout_prefix=None,
    )
    assert config.sumup_api_key_encrypted is not None
    assert b"sup_sk_very_secret_key" not in config.sumup_api_key_encrypted
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery")
    order = await only_order(db)
    pages = [
        await text(response),
        await text(await client.get(f"/checkout/return/{order.id}/")),
        await text(await client.get(f"/orders/{order.id}/")),
        await text(await client.get("/bakery/")),
    ]

    assert all("sup_sk_very_secret_key" not in page for page in pages)


async def test_the_cart_wide_checkout_works_when_everything_goes_to_one_merchant(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, None)

    assert response.status_code == 303
    order = await only_order(db)
    assert order.page_id is None
    assert order.total_amount == Decimal(BAKERY_TOTAL) + Decimal("7.99")
    await pay_on_hosted_page(response.headers["Location"])
    await client.get(f"/checkout/return/{order.id}/")
    assert await live_lines(db, user_id=7) == {}
    assert (await only_order(db)).status == "paid"
    assert shop.compost.id


async def test_the_cart_wide_checkout_explains_several_merchants_and_links_page_checkouts(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await set_page_merchant(
        db,
        settings=settings_of(app),
        page_id=shop.garden.id,
        merchant_code="MGARDEN1",
        api_key="sup_sk_garden",
        checkout_prefix=None,
    )
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, None)

    # Seed 002: the POST redirects to a page that works the split out from the cart.
    assert response.status_code == 303
    assert response.headers["Location"] == "/checkout/split/"
    split = await client.get("/checkout/split/")
    html = await text(split)
    assert split.status_code == 200
    assert "paid separately" in html
    assert 'action="/bakery/checkout/"' in html and 'action="/garden/checkout/"' in html
    assert await all_orders(db) == []
    # Each page on its own works.
    assert (await post_checkout(app, client, "garden")).status_code == 303
    assert (await only_order(db)).merchant_code == "MGARDEN1"


async def test_a_ticket_order_line_keeps_the_price_at_checkout(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    await db.execute(
        update(Product).where(Product.id == shop.loaf.id).values(price=Decimal("9.99"))
    )
    await db.commit()

    html = await text(await client.get(f"/checkout/return/{order.id}/"))

    assert "£4.50" in html or "£9.00" in html
    assert "£9.99" not in html
