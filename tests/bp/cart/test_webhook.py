"""POST /checkout/webhook/<order_id>/: SumUp's hint that a checkout changed.

The stand-in delivers its webhooks over HTTP to the app served by Hypercorn, with duplicates and
drops; other cases call the route through the test client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from models import CalendarEntry, Order, Ticket
from tests.support import factories as f
from tests.support.checkout import (
    events_of,
    live_lines,
    only_order,
    pay_on_hosted_page,
    payments_config,
    post_checkout,
    served,
    shop_with_cart,
    state_of,
    text,
    wait_until,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl, free_port

# A checkout id as SumUp writes them (a UUID); anything else never reaches SumUp.
CHECKOUT_ID = "64553e20-3f0e-49e4-8af3-fd0eca86ce91"


@pytest.fixture
def app_port() -> int:
    return free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, app_port: int) -> dict[str, Any]:
    return payments_config(
        app_config,
        sumup_standin,
        sumup_timeout_seconds=0.5,
        public_base_url=f"http://127.0.0.1:{app_port}",
    )


@pytest.fixture
async def live_app(app: Quart, app_port: int) -> AsyncIterator[str]:
    """The app reachable over HTTP, where the stand-in's webhooks arrive."""
    async with served(app, app_port) as base_url:
        yield base_url


async def checked_out(app: Quart, client: Any, db: AsyncSession) -> Order:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    response = await post_checkout(app, client, "bakery")
    assert response.status_code == 303, await text(response)
    return await only_order(db)


async def order_status(db: AsyncSession, order_id: int) -> str:
    order = await db.get(Order, order_id, populate_existing=True)
    assert order is not None
    return order.status


async def webhook(client: Any, order_id: int | str, body: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return await client.post(
        f"/checkout/webhook/{order_id}/",
        data=raw,
        headers={"Content-Type": "application/json"},
    )


async def test_sumup_webhook_over_http_settles_the_paid_order(
    app: Quart,
    client: Any,
    db: AsyncSession,
    live_app: str,
    sumup_standin_control: StandinControl,
) -> None:
    order = await checked_out(app, client, db)

    await pay_on_hosted_page(str(order.sumup_hosted_url))

    [delivery] = await sumup_standin_control.wait_for_webhooks(1)
    assert delivery["url"] == f"{live_app}/checkout/webhook/{order.id}/"
    assert delivery["status_code"] == 204 and delivery["ok"]
    assert await order_status(db, order.id) == "paid"
    assert len(await events_of(db, "order.paid", order.id)) == 1


async def test_duplicate_webhooks_settle_once(
    app: Quart,
    client: Any,
    db: AsyncSession,
    live_app: str,
    sumup_standin_control: StandinControl,
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.faults(duplicate_webhook=True)

    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    deliveries = await sumup_standin_control.wait_for_webhooks(2)
    assert [d["status_code"] for d in deliveries] == [204, 204]
    assert await order_status(db, order.id) == "paid"
    assert len(await events_of(db, "order.paid", order.id)) == 1
    assert await live_lines(db, user_id=7) != {}  # the garden line is still there


async def test_a_dropped_webhook_is_made_up_for_by_the_return_page(
    app: Quart,
    client: Any,
    db: AsyncSession,
    live_app: str,
    sumup_standin_control: StandinControl,
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.faults(drop_webhook=True)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    [dropped] = await sumup_standin_control.wait_for_webhooks(1)
    assert dropped["dropped"]
    assert await order_status(db, order.id) == "pending"

    page = await text(await client.get(f"/checkout/return/{order.id}/"))

    assert "Thank you" in page
    assert await order_status(db, order.id) == "paid"


async def test_a_webhook_refused_while_sumup_is_down_is_delivered_again(
    app: Quart,
    client: Any,
    db: AsyncSession,
    live_app: str,
    sumup_standin_control: StandinControl,
) -> None:
    order = await checked_out(app, client, db)
    # Our GET of the checkout fails once: we answer 503 and SumUp retries (0.6 s here).
    await sumup_standin_control.faults(fail_get_5xx=1)

    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    deliveries = await sumup_standin_control.wait_for_webhooks(2, wait_seconds=10)
    assert [d["status_code"] for d in deliveries[:2]] == [503, 204]
    await wait_until(lambda: _is_paid(db, order.id), what="the retried webhook")


async def _is_paid(db: AsyncSession, order_id: int) -> bool:
    return await order_status(db, order_id) == "paid"


async def test_the_classic_webhook_shape_settles(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    response = await webhook(
        client, order.id, {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id}
    )

    assert response.status_code == 204
    assert await response.get_data() == b""
    assert await order_status(db, order.id) == "paid"


async def test_the_newer_event_shape_settles(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    response = await webhook(
        client,
        order.id,
        {
            "id": "evt_123",
            "type": "checkouts.paid",
            "created_at": "2026-11-21T10:00:00Z",
            "object": {"id": order.sumup_checkout_id, "type": "checkout", "url": "https://x"},
        },
    )

    assert response.status_code == 204
    assert await order_status(db, order.id) == "paid"


async def test_the_webhook_body_is_never_trusted(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)

    # It says the order is paid; SumUp says the checkout is pending.
    response = await webhook(
        client,
        order.id,
        {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id, "status": "PAID"},
    )

    assert response.status_code == 204
    assert await order_status(db, order.id) == "pending"


async def test_a_checkout_of_another_order_named_by_a_webhook_is_ignored(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    other = app.test_client()
    await sign_in(app, other, 8)
    # Another shopper's paid checkout, named in a webhook for this order.
    page = await f.page(db, "cafe")
    await f.cart_item(db, await f.product(db, page, "Tea", "2.00"), user_id=8)
    await post_checkout(app, other, "cafe")
    other_order = (await _orders_of(db, 8))[0]
    await sumup_standin_control.pay(str(other_order.sumup_checkout_id))

    response = await webhook(
        client,
        order.id,
        {"event_type": "CHECKOUT_STATUS_CHANGED", "id": other_order.sumup_checkout_id},
    )

    assert response.status_code == 204
    assert await order_status(db, order.id) == "pending"
    assert await order_status(db, other_order.id) == "pending"


async def _orders_of(db: AsyncSession, user_id: int) -> list[Order]:
    return list(
        await db.scalars(
            select(Order).where(Order.user_id == user_id).execution_options(populate_existing=True)
        )
    )


@pytest.mark.parametrize(
    "body",
    [
        {"event_type": "SOMETHING_ELSE", "id": "abc"},
        {"id": "evt_1", "type": "members.created", "object": {"id": "m1"}},
        {"hello": "world"},
        {"event_type": "CHECKOUT_STATUS_CHANGED"},
    ],
)
async def test_events_that_are_not_checkout_changes_are_acknowledged(
    app: Quart, client: Any, db: AsyncSession, body: dict[str, Any]
) -> None:
    order = await checked_out(app, client, db)

    response = await webhook(client, order.id, body)

    assert response.status_code == 204
    assert await order_status(db, order.id) == "pending"


@pytest.mark.parametrize("order_ref", ["424242", "not-a-number", "99999999999999999999999"])
async def test_a_webhook_for_an_unknown_order_is_acknowledged(
    app: Quart, client: Any, order_ref: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await webhook(
            client, order_ref, {"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID}
        )

    assert response.status_code == 204
    assert any("ignored" in record.getMessage() for record in caplog.records)


async def test_a_body_that_is_not_json_is_a_400(app: Quart, client: Any) -> None:
    response = await webhook(client, 1, "this is not json")

    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"]["code"] == "INVALID_WEBHOOK"


async def test_the_webhook_needs_no_csrf_token_or_session(app: Quart, db: AsyncSession) -> None:
    response = await app.test_client().post(
        "/checkout/webhook/1/", json={"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID}
    )

    assert response.status_code == 204


async def test_sumup_unreachable_answers_503(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await sumup_standin_control.faults(slow_get_seconds=2.0)

    response = await webhook(
        client, order.id, {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id}
    )

    assert response.status_code == 503
    assert (await response.get_json())["error"]["code"] == "PAYMENT_PROVIDER_UNAVAILABLE"
    assert await order_status(db, order.id) == "pending"


async def test_database_unreachable_answers_503(
    app_config: dict[str, Any], clean_state: None
) -> None:
    broken = create_app({**app_config, "database_url": "postgresql://root@127.0.0.1:9/none"})
    async with broken.test_app():
        response = await broken.test_client().post(
            "/checkout/webhook/1/",
            json={"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID},
        )

    assert response.status_code == 503
    assert (await response.get_json())["error"]["code"] == "DATABASE_UNAVAILABLE"


async def test_an_expired_checkout_after_its_session_expires_the_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await db.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(checkout_started_at=Order.checkout_started_at - timedelta(minutes=31))
    )
    await db.commit()
    await sumup_standin_control.expire(str(order.sumup_checkout_id))

    response = await webhook(
        client, order.id, {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id}
    )

    assert response.status_code == 204
    assert await order_status(db, order.id) == "expired"
    # Its booking and ticket are back in the cart.
    assert await _count(db, CalendarEntry.state == "pending") == 1
    assert await _count(db, Ticket.state == "pending", Ticket) == 1


async def test_an_expired_checkout_within_its_session_leaves_the_order_to_its_owner(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    # Within the session only our own flows deactivate a checkout, and they finish the job.
    order = await checked_out(app, client, db)
    await sumup_standin_control.expire(str(order.sumup_checkout_id))

    await webhook(
        client, order.id, {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id}
    )

    order = await only_order(db)
    assert (order.status, order.sumup_status) == ("pending", "EXPIRED")


async def _count(db: AsyncSession, condition: Any, model: type[Any] = CalendarEntry) -> int:
    return int(await db.scalar(select(func.count()).select_from(model).where(condition)) or 0)


async def test_the_booking_state_after_a_webhook(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await webhook(
        client, order.id, {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id}
    )
    entry_id = await _entry_id(db)

    assert await state_of(db, CalendarEntry, entry_id) == "confirmed"


async def _entry_id(db: AsyncSession) -> int:
    value = await db.scalar(select(CalendarEntry.id))
    assert value is not None
    return int(value)
