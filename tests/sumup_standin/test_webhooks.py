"""Webhook delivery: body, retries on SumUp's schedule, and the webhook fault switches."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx

from tests.sumup_standin.conftest import API_KEY, MakeCheckout
from tests.sumup_standin.receiver import WebhookReceiver
from tests.support.standin import StandinControl, start_standin_process

RETRY_DELAYS_SECONDS = (60, 300, 1200, 7200)
FAST_SCALE = 0.0002  # retries after 12, 60, 240 and 1440 ms
QUIET_SECONDS = 0.3  # how long "nothing more arrives" is watched for


async def test_failing_receiver_is_retried_on_the_scaled_schedule() -> None:
    with start_standin_process(webhook_delay_scale=FAST_SCALE) as standin:
        control = StandinControl(standin.base_url)
        async with (
            WebhookReceiver(then=500) as receiver,
            httpx.AsyncClient(
                base_url=standin.base_url, headers={"Authorization": f"Bearer {API_KEY}"}
            ) as sumup_api,
        ):
            created = await sumup_api.post(
                "/v0.1/checkouts",
                json={
                    "checkout_reference": "retry-1",
                    "amount": 5,
                    "currency": "EUR",
                    "merchant_code": "MRETRY",
                    "return_url": receiver.url,
                },
            )
            checkout_id = created.json()["id"]
            await control.pay(checkout_id)

            requests = await receiver.wait_for(5)
            await asyncio.sleep(QUIET_SECONDS)
            deliveries = await control.webhooks(checkout_id)

    assert len(receiver.requests) == 5
    assert [d["attempt"] for d in deliveries] == [1, 2, 3, 4, 5]
    assert {d["status_code"] for d in deliveries} == {500}
    assert not any(d["ok"] for d in deliveries)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    for gap, delay in zip(gaps, RETRY_DELAYS_SECONDS, strict=True):
        assert delay * FAST_SCALE <= gap + 0.005 < delay * FAST_SCALE + 0.5, gaps


async def test_a_retry_that_succeeds_ends_the_deliveries(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    async with WebhookReceiver([503]) as receiver:
        checkout = await make_checkout(return_url=receiver.url)
        await sumup_standin_control.pay(checkout["id"])
        first, second = await receiver.wait_for(2)
        await asyncio.sleep(QUIET_SECONDS)

    deliveries = await sumup_standin_control.webhooks(checkout["id"])
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in deliveries] == [
        (1, 503, False),
        (2, 204, True),
    ]
    assert second.at - first.at >= 60 * 0.01 - 0.005
    assert first.body == second.body


async def test_an_unreachable_receiver_is_logged_as_an_error(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout(return_url="http://127.0.0.1:9/webhook")
    await sumup_standin_control.pay(checkout["id"])

    [delivery] = await sumup_standin_control.wait_for_webhooks(1, checkout_id=checkout["id"])

    assert delivery["status_code"] is None
    assert delivery["error"]
    assert delivery["ok"] is False


async def test_failed_and_expired_changes_are_notified_too(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    async with WebhookReceiver() as receiver:
        checkout = await make_checkout(return_url=receiver.url)
        await sumup_standin_control.fail(checkout["id"])
        await receiver.wait_for(1)
        await sumup_standin_control.expire(checkout["id"])
        await receiver.wait_for(2)

    deliveries = await sumup_standin_control.webhooks(checkout["id"])
    assert [d["checkout_status"] for d in deliveries] == ["FAILED", "EXPIRED"]
    assert {r.json()["id"] for r in receiver.requests} == {checkout["id"]}


async def test_no_return_url_no_webhook(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.pay(checkout["id"])
    await asyncio.sleep(0.1)

    assert await sumup_standin_control.webhooks() == []


async def test_duplicate_webhook_arrives_twice_at_once(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(duplicate_webhook=True)
    async with WebhookReceiver() as receiver:
        checkout = await make_checkout(return_url=receiver.url)
        await sumup_standin_control.pay(checkout["id"])
        first, second = await receiver.wait_for(2)

    assert first.body == second.body
    assert first.json() == {"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout["id"]}
    assert abs(second.at - first.at) < 0.5  # a retry would come 0.6 s later
    deliveries = await sumup_standin_control.webhooks(checkout["id"])
    assert sorted(d["copy"] for d in deliveries) == [1, 2]


async def test_drop_webhook_once_drops_only_the_next_change(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(drop_webhook={"times": 1})
    async with WebhookReceiver() as receiver:
        dropped = await make_checkout(return_url=receiver.url)
        delivered = await make_checkout(return_url=receiver.url)
        await sumup_standin_control.pay(dropped["id"])
        await sumup_standin_control.pay(delivered["id"])
        await receiver.wait_for(1)
        await asyncio.sleep(QUIET_SECONDS)

    assert [r.json()["id"] for r in receiver.requests] == [delivered["id"]]
    [log] = await sumup_standin_control.webhooks(dropped["id"])
    assert log["dropped"] is True
    assert await sumup_standin_control.faults() == {}


async def test_delay_webhook_holds_the_first_attempt(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(delay_webhook_seconds=0.4)
    async with WebhookReceiver() as receiver:
        checkout = await make_checkout(return_url=receiver.url)
        paid_at = asyncio.get_running_loop().time()
        await sumup_standin_control.pay(checkout["id"])
        [webhook] = await receiver.wait_for(1)

    assert webhook.at - paid_at >= 0.4
    [delivery] = await sumup_standin_control.webhooks(checkout["id"])
    assert delivery["seconds_after_event"] >= 0.4


async def test_status_lag_still_fires_the_webhook(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(status_lag=1)
    async with WebhookReceiver() as receiver:
        checkout = await make_checkout(return_url=receiver.url)
        await sumup_standin_control.pay(checkout["id"])
        await receiver.wait_for(1)

    lagging: dict[str, Any] = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()
    settled: dict[str, Any] = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()
    assert (lagging["status"], lagging["transactions"]) == ("PENDING", [])
    assert settled["status"] == "PAID"


async def test_reset_stops_pending_retries(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    async with WebhookReceiver(then=500) as receiver:
        checkout = await make_checkout(return_url=receiver.url)
        await sumup_standin_control.pay(checkout["id"])
        await receiver.wait_for(1)
        await sumup_standin_control.reset()
        await asyncio.sleep(60 * 0.01 + QUIET_SECONDS)

    assert len(receiver.requests) == 1
    assert await sumup_standin_control.webhooks() == []
