"""check_sumup_status: the order settled by what SumUp says, once; the return page, "check
again" and "pay again" built on it."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from bp.runtime import runtime
from lib.localtime import format_local_time
from models import CalendarEntry, CartItem, Order, Ticket
from tests.support import factories as f
from tests.support.checkout import (
    all_orders,
    events_of,
    fresh,
    live_lines,
    only_order,
    pay_on_hosted_page,
    payment_deps,
    payments_config,
    post_checkout,
    post_form,
    shop_with_cart,
    state_of,
    text,
)
from tests.support.http import settings_of, sign_in
from tests.support.standin import StandinControl


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, sumup_timeout_seconds=0.5)


async def checked_out(app: Quart, client: Any, db: AsyncSession, **shop: Any) -> Order:
    """User 7 checks out the bakery page; answers the pending order."""
    await shop_with_cart(db, user_id=7, **shop)
    await sign_in(app, client, 7)
    response = await post_checkout(app, client, "bakery")
    assert response.status_code == 303, await text(response)
    return await only_order(db)


async def settle(app: Quart, db: AsyncSession, order_id: int, **kwargs: Any) -> Any:
    return await check_sumup_status(
        db,
        order_id=order_id,
        **payment_deps(app),
        source=kwargs.pop("source", "test"),
        **kwargs,
    )


async def test_a_paid_checkout_settles_the_order_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    first = await settle(app, db, order.id)
    paid_at = (await only_order(db)).paid_at
    second = await settle(app, db, order.id)

    assert (first.status, first.changed) == ("paid", True)
    assert (second.status, second.changed) == ("paid", False)
    order = await only_order(db)
    assert order.paid_at == paid_at and order.sumup_status == "PAID"
    assert len(await events_of(db, "order.paid", order.id)) == 1


async def test_a_pending_checkout_changes_nothing(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await checked_out(app, client, db)

    result = await settle(app, db, order.id)

    assert (result.status, result.sumup_status, result.changed) == ("pending", "PENDING", False)
    assert (await only_order(db)).status == "pending"


async def test_a_failed_payment_marks_the_order_failed_and_it_can_still_be_paid(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    await sumup_standin_control.fail(str(order.sumup_checkout_id))

    failed = await settle(app, db, order.id)

    assert failed.status == "failed"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "ordered"
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    assert (await settle(app, db, order.id)).status == "paid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("total_amount", Decimal("0.01"), "amount"),
        ("currency", "EUR", "currency"),
    ],
)
async def test_a_checkout_that_does_not_match_the_order_is_not_paid_and_logged_loudly(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    caplog: pytest.LogCaptureFixture,
    column: str,
    value: Any,
    what: str,
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await db.execute(update(Order).where(Order.id == order.id).values({column: value}))
    await db.commit()

    with caplog.at_level(logging.CRITICAL):
        result = await settle(app, db, order.id)

    assert result.mismatch and result.status == "pending"
    assert (await only_order(db)).status == "pending"
    assert await events_of(db, "order.paid") == []
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert f"order {order.id} NOT settled" in record.getMessage()
    assert what in record.getMessage()


async def test_sumup_failing_or_timing_out_on_get_raises_and_changes_nothing(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    await sumup_standin_control.faults(fail_get_5xx=1)
    with pytest.raises(PaymentProviderUnavailable):
        await settle(app, db, order.id)
    await sumup_standin_control.faults(slow_get_seconds={"value": 1.0, "times": 1})
    with pytest.raises(PaymentProviderUnavailable):
        await settle(app, db, order.id)

    assert (await only_order(db)).status == "pending"
    assert (await settle(app, db, order.id)).status == "paid"


async def test_an_unknown_order_is_not_found(app: Quart, db: AsyncSession) -> None:
    from lib.errors import NotFound

    with pytest.raises(NotFound):
        await settle(app, db, 424242)


async def test_the_cart_keeps_what_was_added_after_checkout(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    # Two more loaves after checkout: the order bought two, so two stay in the cart.
    await db.execute(
        update(CartItem)
        .where(CartItem.user_id == 7, CartItem.product_id == shop.loaf.id)
        .values(quantity=4)
    )
    await db.commit()
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    await settle(app, db, order.id)

    assert await live_lines(db, user_id=7) == {shop.loaf.id: 2, shop.compost.id: 1}


async def test_tickets_sold_out_before_payment_are_refunded_not_oversold(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7, ticket_capacity=1)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    # The last ticket went at the door while the shopper was paying.
    await f.ticket(db, shop.ticket_type, user_id=99, state="confirmed")
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    assert shop.ticket is not None
    ticket_id, booking_id = shop.ticket.id, shop.booking.id

    result = await settle(app, db, order.id)

    assert result.status == "paid"
    order = await only_order(db)
    assert order.needs_refund
    assert order.refund_reason and "Harvest supper (Standard)" in order.refund_reason
    assert "£12.00" in order.refund_reason
    assert await state_of(db, Ticket, ticket_id) == "cancelled"
    assert await state_of(db, CalendarEntry, booking_id) == "confirmed"
    page = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert 'id="refund-notice"' in page and "£12.00" in page
    assert "sold out" in (await text(await client.get(f"/orders/{order.id}/"))).lower()
    # Other coop apps read the same: one `order.paid`, saying a refund is due.
    [paid] = await events_of(db, "order.paid", order.id)
    assert paid.payload["object"]["needsRefund"] is True
    assert paid.payload["object"]["status"] == "paid"


async def test_an_order_that_delivers_everything_says_no_refund_is_due(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    await settle(app, db, order.id)

    [paid] = await events_of(db, "order.paid", order.id)
    assert "needsRefund" not in paid.payload["object"]
    assert [item["kind"] for item in paid.payload["object"]["items"]].count("ticket") == 1


async def test_a_payment_that_raced_the_expiry_is_kept_and_its_bookings_taken_back(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    # The order was expired (claims released) just before the payment was seen.
    await db.execute(update(Order).where(Order.id == order.id).values(status="expired"))
    await runtime(app).domains.calendar.release_claims_for_order(db, order_id=order.id)
    await db.commit()
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"

    result = await settle(app, db, order.id)

    assert (result.status, result.changed) == ("paid", True)
    order = await only_order(db)
    assert not order.needs_refund
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "confirmed"


async def test_a_payment_after_expiry_refunds_what_someone_else_took_meanwhile(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await db.execute(update(Order).where(Order.id == order.id).values(status="expired"))
    await runtime(app).domains.calendar.release_claims_for_order(db, order_id=order.id)
    # Meanwhile the shopper removed the booking from the cart.
    await db.execute(
        update(CalendarEntry).where(CalendarEntry.id == shop.booking.id).values(state="cancelled")
    )
    await db.commit()

    await settle(app, db, order.id)

    order = await only_order(db)
    assert order.status == "paid" and order.needs_refund
    assert order.refund_reason and "Bread class" in order.refund_reason


async def test_the_return_page_says_paid_failed_or_still_confirming(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)

    pending = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert "confirming your payment" in pending
    assert f'hx-get="/checkout/return/{order.id}/status?poll=1"' in pending
    assert 'hx-trigger="every 3s"' in pending

    await sumup_standin_control.fail(str(order.sumup_checkout_id))
    failed = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert "did not go through" in failed
    # Kept until the hosted session's end, said as a clock time in the coop's zone.
    await db.refresh(order)
    assert order.checkout_started_at is not None
    until = format_local_time(order.checkout_started_at + timedelta(minutes=30))
    assert "a little while" not in failed
    assert re.search(
        "is kept, with its booking and a ticket, until "
        rf"<time datetime=\"[^\"]+\">{until}</time> \(30 minutes",
        failed,
    ), failed[failed.index("did not go through") :][:600]
    assert f'action="/orders/{order.id}/pay/"' in failed and "Pay again" in failed

    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    paid = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert "Thank you" in paid and "£36.80" in paid


async def test_the_pending_page_checks_again_until_sumup_confirms(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    # The shopper is back before SumUp's API shows the payment (two more reads say PENDING).
    await sumup_standin_control.faults(status_lag=2)
    await pay_on_hosted_page(str(order.sumup_hosted_url))

    page = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert 'data-state="pending"' in page
    headers = {"HX-Request": "true"}
    poll = await client.get(f"/checkout/return/{order.id}/status?poll=1", headers=headers)
    fragment = await text(poll)
    assert 'data-state="pending"' in fragment and "<html" not in fragment
    assert "status?poll=2" in fragment
    done = await client.get(f"/checkout/return/{order.id}/status?poll=2", headers=headers)

    assert done.headers["HX-Redirect"] == f"/checkout/return/{order.id}/"
    assert (await only_order(db)).status == "paid"


async def test_sumup_unreachable_on_return_shows_pending_never_failed(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await sumup_standin_control.faults(fail_get_5xx=True)

    response = await client.get(f"/checkout/return/{order.id}/")

    html = await text(response)
    assert response.status_code == 200
    assert 'data-state="pending"' in html and "could not reach SumUp" in html
    assert "did not go through" not in html


async def test_the_pending_page_stops_asking_after_a_while(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await checked_out(app, client, db)

    fragment = await text(await client.get(f"/checkout/return/{order.id}/status?poll=60"))

    assert "hx-get" not in fragment and "taking longer than usual" in fragment


async def test_only_the_owner_sees_the_return_page_or_pays_or_rechecks(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await checked_out(app, client, db)
    stranger = app.test_client()
    await sign_in(app, stranger, 8)

    assert (await stranger.get(f"/checkout/return/{order.id}/")).status_code == 404
    assert (await stranger.get(f"/checkout/return/{order.id}/status")).status_code == 404
    assert (await post_form(app, stranger, f"/orders/{order.id}/pay/")).status_code == 404
    assert (await post_form(app, stranger, f"/orders/{order.id}/recheck/")).status_code == 404
    anonymous = app.test_client()
    assert (await anonymous.get(f"/checkout/return/{order.id}/")).status_code == 404


async def test_check_again_settles_and_goes_back_to_the_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    response = await post_form(app, client, f"/orders/{order.id}/recheck/")

    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/orders/{order.id}/")
    assert (await only_order(db)).status == "paid"


async def test_check_again_over_htmx_answers_the_order_and_a_message(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await checked_out(app, client, db)

    response = await post_form(app, client, f"/orders/{order.id}/recheck/", htmx=True)

    html = await text(response)
    assert response.status_code == 200
    assert 'id="order-detail"' in html and "<html" not in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert "SumUp has no payment for this order: it is not paid yet." in html
    # No payment found is news, not a success.
    assert 'data-tone="info"' in html and "✓" not in html


async def test_pay_again_within_the_session_goes_back_to_the_same_hosted_page(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.fail(str(order.sumup_checkout_id))

    response = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert response.status_code == 303
    assert response.headers["Location"] == order.sumup_hosted_url
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_pay_again_after_the_session_starts_a_new_attempt(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    old_checkout = str(order.sumup_checkout_id)
    await db.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(checkout_started_at=Order.checkout_started_at - timedelta(minutes=29))
    )
    await db.commit()

    response = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert response.status_code == 303
    order = await only_order(db)
    assert order.attempt == 2 and order.sumup_reference == f"rose-{order.id}-2"
    assert response.headers["Location"] == order.sumup_hosted_url != old_checkout
    assert (await sumup_standin_control.checkout(old_checkout))["status"] == "EXPIRED"
    # The new attempt is paid and settles the order.
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    assert (await settle(app, db, order.id)).status == "paid"


async def test_pay_again_when_the_old_attempt_was_paid_settles_instead(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await db.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(checkout_started_at=Order.checkout_started_at - timedelta(minutes=29))
    )
    await db.commit()

    response = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert response.headers["Location"] == f"http://127.0.0.1:9/checkout/return/{order.id}/"
    assert (await only_order(db)).status == "paid"
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_pay_again_of_a_paid_or_expired_order_is_refused(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await sign_in(app, client, 7)
    paid = await f.order(db, user_id=7, status="paid")
    expired = await f.order(db, user_id=7, status="expired")

    first = await post_form(app, client, f"/orders/{paid.id}/pay/")
    second = await post_form(app, client, f"/orders/{expired.id}/pay/")

    assert first.status_code == 409 and "already paid" in await text(first)
    assert second.status_code == 409 and "back in your cart" in await text(second)
    assert len(await all_orders(db)) == 2
    assert settings_of(app).payment_window_minutes == 30


async def test_a_settled_order_is_not_asked_about_again(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await settle(app, db, order.id)
    await sumup_standin_control.faults(fail_get_5xx=True)

    # No SumUp call is needed to show a paid order.
    assert (await settle(app, db, order.id)).status == "paid"
    assert "Thank you" in await text(await client.get(f"/checkout/return/{order.id}/"))
    assert (await fresh(db, Order, order.id)).status == "paid"


async def test_a_transaction_status_sumup_adds_one_day_never_blocks_settlement(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    caplog: pytest.LogCaptureFixture,
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    # Every read of the checkout shows its transaction with a status the client never heard of.
    await sumup_standin_control.faults(transaction_status="ON_HOLD")

    with caplog.at_level(logging.WARNING, logger="services.sumup.types"):
        first = await settle(app, db, order.id)
        await settle(app, db, order.id, source="recheck")

    assert (first.status, first.changed) == ("paid", True)
    order = await only_order(db)
    assert order.status == "paid" and order.sumup_transaction_id is not None
    warnings = [r.getMessage() for r in caplog.records if "ON_HOLD" in r.getMessage()]
    assert len(warnings) == 1, warnings
