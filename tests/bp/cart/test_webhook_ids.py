"""The webhook names a checkout: only SumUp's id format reaches SumUp, and not too often."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update

from app import create_app
from bp.runtime import runtime
from models import Order, OrderCheckout, utcnow
from tests.sumup_standin.receiver import WebhookReceiver
from tests.support import factories as f

BAD_IDS = [".", "..", "../..", "./", "a/b", "%2e", "%2e%2e", "?x=1", "#", "..%2f", " ", "\u2024"]


@pytest.fixture
async def sumup() -> AsyncIterator[WebhookReceiver]:
    """Stands in for SumUp's API and records every call the app makes to it (answers 404)."""
    async with WebhookReceiver(then=404) as receiver:
        yield receiver


def app_settings(
    app_config: dict[str, Any], sumup: WebhookReceiver, **extra: Any
) -> dict[str, Any]:
    return {**app_config, "sumup_api_base": f"http://127.0.0.1:{sumup.port}", **extra}


async def open_order(application: Quart) -> int:
    async with runtime(application).databases.sessionmaker() as db:
        order = await f.order(db, user_id=3)
        order.sumup_reference = f"rose-{order.id}-1"
        order.merchant_code = runtime(application).settings.sumup_merchant_code
        order.sumup_checkout_id = str(uuid.uuid4())
        await db.commit()
        return order.id


def notification(checkout_id: str, *, envelope: bool) -> str:
    if envelope:
        return json.dumps({"type": "checkout.status.updated", "object": {"id": checkout_id}})
    return json.dumps({"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout_id})


@pytest.mark.parametrize("envelope", [False, True])
async def test_a_checkout_id_that_is_not_sumup_s_never_reaches_sumup(
    app_config: dict[str, Any], clean_state: None, sumup: WebhookReceiver, envelope: bool
) -> None:
    application = create_app(app_settings(app_config, sumup))
    async with application.test_app():
        order_id = await open_order(application)
        client = application.test_client()
        answers = [
            await client.post(
                f"/checkout/webhook/{order_id}/",
                data=notification(bad, envelope=envelope),
                headers={"Content-Type": "application/json"},
            )
            for bad in BAD_IDS
        ]

    assert [a.status_code for a in answers] == [204] * len(BAD_IDS)
    assert [r.path for r in sumup.requests] == []


async def test_sumup_is_asked_a_bounded_number_of_times_per_order(
    app_config: dict[str, Any], clean_state: None, sumup: WebhookReceiver
) -> None:
    config = app_settings(
        app_config,
        sumup,
        rate_limit_enabled=True,
        rate_limit_webhook="100/minute",
        rate_limit_webhook_per_order="3/minute",
    )
    application = create_app(config)
    async with application.test_app():
        order_id, other_order = await open_order(application), await open_order(application)
        client = application.test_client()
        answers = [
            await client.post(
                f"/checkout/webhook/{order_id}/",
                data=notification(str(uuid.uuid4()), envelope=False),
                headers={"Content-Type": "application/json"},
            )
            for _ in range(12)
        ]
        other = await client.post(
            f"/checkout/webhook/{other_order}/",
            data=notification(str(uuid.uuid4()), envelope=False),
            headers={"Content-Type": "application/json"},
        )

    assert [a.status_code for a in answers[:3]] == [204] * 3
    assert [a.status_code for a in answers[3:]] == [429] * 9
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # Each accepted webhook asks about the named checkout and the order's own: two calls.
    calls_for_the_order = [r for r in sumup.requests if r.method == "GET"]
    assert len(calls_for_the_order) <= 2 * 3 + 2
    assert other.status_code == 204


async def post_webhook(client: Any, order_id: int, body: str) -> Any:
    return await client.post(
        f"/checkout/webhook/{order_id}/", data=body, headers={"Content-Type": "application/json"}
    )


async def test_junk_never_spends_the_orders_allowance(
    app_config: dict[str, Any], clean_state: None, sumup: WebhookReceiver
) -> None:
    config = app_settings(
        app_config,
        sumup,
        rate_limit_enabled=True,
        rate_limit_webhook="100/minute",
        rate_limit_webhook_per_order="3/minute",
    )
    application = create_app(config)
    async with application.test_app():
        order_id = await open_order(application)
        async with runtime(application).databases.sessionmaker() as db:
            own = str((await db.get(Order, order_id)).sumup_checkout_id)  # type: ignore[union-attr]
        client = application.test_client()
        junk = [await post_webhook(client, order_id, "{}") for _ in range(10)]
        delivery = await post_webhook(client, order_id, notification(own, envelope=False))

    assert [answer.status_code for answer in junk] == [204] * 10
    assert delivery.status_code == 204
    assert [r.path for r in sumup.requests] == [f"/v0.1/checkouts/{own}"]


async def test_an_order_paid_long_ago_is_never_asked_about(
    app_config: dict[str, Any], clean_state: None, sumup: WebhookReceiver
) -> None:
    application = create_app(app_settings(app_config, sumup))
    async with application.test_app():
        order_id = await open_order(application)
        async with runtime(application).databases.sessionmaker() as db:
            order = await db.get(Order, order_id)
            assert order is not None
            order.status, order.paid_at = "paid", utcnow() - timedelta(days=40)
            await db.execute(
                update(OrderCheckout)
                .where(OrderCheckout.order_id == order_id)
                .values(recorded_at=utcnow() - timedelta(days=40))
            )
            await db.commit()
            own = str(order.sumup_checkout_id)
        client = application.test_client()
        answers = [
            await post_webhook(client, order_id, notification(checkout, envelope=False))
            for checkout in (str(uuid.uuid4()), str(uuid.uuid4()), own)
        ]

    assert [answer.status_code for answer in answers] == [204] * 3
    assert sumup.requests == []


async def test_a_checkout_the_order_never_had_is_never_sent_to_sumup(
    app_config: dict[str, Any], clean_state: None, sumup: WebhookReceiver
) -> None:
    application = create_app(app_settings(app_config, sumup))
    async with application.test_app():
        order_id = await open_order(application)
        async with runtime(application).databases.sessionmaker() as db:
            own = (await db.get(Order, order_id)).sumup_checkout_id  # type: ignore[union-attr]
        stranger = str(uuid.uuid4())
        answer = await post_webhook(
            application.test_client(), order_id, notification(stranger, envelope=True)
        )

    assert answer.status_code == 204
    # The hint is taken as "something changed": the order's own checkout is looked at, once.
    assert [r.path for r in sumup.requests] == [f"/v0.1/checkouts/{own}"]


async def test_an_earlier_checkout_of_an_open_order_is_still_asked_about(
    app_config: dict[str, Any], clean_state: None, sumup: WebhookReceiver
) -> None:
    # Paid on the page of an earlier attempt: that checkout is the order's, and young.
    application = create_app(app_settings(app_config, sumup))
    async with application.test_app():
        order_id = await open_order(application)
        async with runtime(application).databases.sessionmaker() as db:
            order = await db.get(Order, order_id)
            assert order is not None
            earlier = order.sumup_checkout_id
            order.attempt, order.sumup_reference = 2, f"rose-{order_id}-2"
            order.sumup_checkout_id = str(uuid.uuid4())
            await db.commit()
            recorded = set(
                await db.scalars(
                    select(OrderCheckout.checkout_id).where(OrderCheckout.order_id == order_id)
                )
            )
        answer = await post_webhook(
            application.test_client(), order_id, notification(str(earlier), envelope=False)
        )

    assert recorded == {earlier, order.sumup_checkout_id}
    assert answer.status_code == 204
    assert sumup.requests[0].path == f"/v0.1/checkouts/{earlier}"
