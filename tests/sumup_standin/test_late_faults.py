"""The switches that make SumUp's answer and its later view disagree: a refund made after its
5xx, a transaction lookup that lags behind a refund, and calls held until a test releases them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.sumup_standin.conftest import MERCHANT_CODE, MakeCheckout
from tests.sumup_standin.test_refunds import (
    LOOKUP,
    current_path,
    legacy_path,
    lookup,
    paid_transaction,
)
from tests.support.standin import StandinControl

LATER = 0.4


async def refunds_after(control: StandinControl, txn_id: str, seconds: float) -> list[float]:
    """The refunds made on a transaction, looked at once `seconds` have passed."""
    await asyncio.sleep(seconds)
    return [r["amount"] for r in await control.refunds(txn_id)]


@pytest.mark.parametrize("endpoint", ["legacy", "current"])
async def test_refund_after_5xx_answers_5xx_and_makes_the_refund_later(
    sumup_api: httpx.AsyncClient,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    endpoint: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    path = legacy_path(txn_id) if endpoint == "legacy" else current_path(txn_id)
    await sumup_standin_control.faults(refund_after_5xx_seconds={"value": LATER, "times": 1})

    answer = await sumup_api.post(path, json={"amount": 3})

    assert answer.status_code == 500
    assert await sumup_standin_control.refunds(txn_id) == []
    assert (await lookup(sumup_api, id=txn_id))["events"] == []
    assert await refunds_after(sumup_standin_control, txn_id, LATER + 0.3) == [3.0]
    assert await sumup_standin_control.faults() == {}


async def test_a_late_refund_sumup_would_refuse_is_not_made(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control, amount=20)
    await sumup_standin_control.faults(refund_after_5xx_seconds={"value": LATER, "times": 1})

    assert (await sumup_api.post(legacy_path(txn_id), json={"amount": 15})).status_code == 500
    # Meanwhile most of it is refunded: the late 15.00 no longer fits.
    assert (await sumup_api.post(legacy_path(txn_id), json={"amount": 10})).status_code == 204

    assert await refunds_after(sumup_standin_control, txn_id, LATER + 0.3) == [10.0]


async def test_reset_cancels_a_refund_still_to_come(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await sumup_standin_control.faults(refund_after_5xx_seconds=LATER)
    assert (await sumup_api.post(legacy_path(txn_id), json={"amount": 3})).status_code == 500

    await sumup_standin_control.reset()
    await asyncio.sleep(LATER + 0.3)

    assert (await sumup_api.get(LOOKUP, params={"id": txn_id})).status_code == 404


async def test_transaction_lag_hides_the_latest_refund_from_the_next_lookups(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control, amount=20)
    assert (await sumup_api.post(legacy_path(txn_id), json={"amount": 2})).status_code == 204
    await sumup_standin_control.faults(transaction_lag={"value": 2, "times": 1})

    assert (await sumup_api.post(legacy_path(txn_id), json={"amount": 5})).status_code == 204
    views = [await lookup(sumup_api, id=txn_id) for _ in range(3)]

    amounts = [[event["amount"] for event in view["events"]] for view in views]
    assert amounts == [[2.0], [2.0], [2.0, 5.0]]
    assert [link["max_amount"] for link in views[0]["links"]] == [18.0]
    # The stand-in's own view is never behind.
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [2.0, 5.0]


async def test_transaction_lag_of_a_first_refund_shows_the_payment_unrefunded(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await sumup_standin_control.faults(transaction_lag={"value": 1, "times": 1})

    assert (await sumup_api.post(current_path(txn_id), json={"amount": 4})).status_code == 201
    lagging = await lookup(sumup_api, id=txn_id)
    caught_up = await lookup(sumup_api, id=txn_id)

    assert (lagging["status"], lagging["events"]) == ("SUCCESSFUL", [])
    assert caught_up["status"] == "REFUNDED"


async def test_hold_create_holds_the_create_before_the_checkout_exists(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(hold_create={"value": True, "times": 1})

    held = asyncio.ensure_future(make_checkout(checkout_reference="held-1"))
    await sumup_standin_control.wait_for_hold("create")
    listed = await sumup_api.get("/v0.1/checkouts", params={"checkout_reference": "held-1"})
    other = await make_checkout(checkout_reference="not-held")

    assert listed.json() == [] and not held.done()
    assert other["status"] == "PENDING"
    assert await sumup_standin_control.release("create") == 1
    created = await held
    assert created["checkout_reference"] == "held-1"
    assert await sumup_standin_control.holds() == {}


async def test_hold_list_answers_what_there_was_when_it_arrived(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(hold_list={"value": True, "times": 1})

    listing = asyncio.create_task(
        sumup_api.get("/v0.1/checkouts", params={"checkout_reference": "made-meanwhile"})
    )
    await sumup_standin_control.wait_for_hold("list")
    await make_checkout(checkout_reference="made-meanwhile")
    await sumup_standin_control.release("list")

    assert (await listing).json() == []
    again = await sumup_api.get("/v0.1/checkouts", params={"checkout_reference": "made-meanwhile"})
    assert [c["checkout_reference"] for c in again.json()] == ["made-meanwhile"]


async def test_reset_lets_held_calls_go_on(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(hold_create=True)
    held: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(
        make_checkout(checkout_reference="held-2")
    )
    await sumup_standin_control.wait_for_hold("create")
    started = time.monotonic()

    await sumup_standin_control.reset()

    assert (await held)["merchant_code"] == MERCHANT_CODE
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("switch", "value"),
    [
        ("refund_after_5xx_seconds", -1),
        ("transaction_lag", "soon"),
        ("hold_create", 2),
        ("hold_list", "yes"),
        ("transaction_status", ""),
    ],
)
async def test_the_new_switches_refuse_unusable_values(
    sumup_standin: str, switch: str, value: object
) -> None:
    async with httpx.AsyncClient(base_url=sumup_standin) as control:
        response = await control.post("/_standin/faults", json={switch: value})

    assert response.status_code == 400
    assert switch in response.json()["error"]


async def test_transaction_status_shows_a_new_status_on_the_checkouts_read(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.pay(checkout["id"])
    await sumup_standin_control.faults(transaction_status={"value": "ON_HOLD", "times": 1})

    odd = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()
    usual = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()

    assert [t["status"] for t in odd["transactions"]] == ["ON_HOLD"]
    assert [t["status"] for t in usual["transactions"]] == ["SUCCESSFUL"]
    assert odd["status"] == "PAID"
