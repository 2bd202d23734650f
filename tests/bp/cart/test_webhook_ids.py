"""The webhook names a checkout: only SumUp's id format reaches SumUp, and not too often."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from app import create_app
from bp.runtime import runtime
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
