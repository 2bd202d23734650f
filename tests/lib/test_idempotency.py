"""Idempotency keys on the mutating internal POSTs (adopt, refund): a repeat gets the kept
answer, marked as replayed, without the work running again; another request with the same key
is a 422; concurrent repeats run the work once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.idempotency import KEPT_SECONDS, fingerprint, valid_key
from models import Order
from tests.bp.cart.helpers import lines_of
from tests.support import factories as f
from tests.support.checkout import (
    only_order,
    payments_config,
    post_checkout,
    served,
    shop_with_cart,
    text,
)
from tests.support.http import internal_headers, sign_in
from tests.support.standin import StandinControl, free_port

SID = "anon-idem-1"
ADOPT = "/internal/cart/adopt"
CONCURRENT = 8


@pytest.fixture
def app_port() -> int:
    return free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, app_port: int) -> dict[str, Any]:
    return payments_config(
        app_config, sumup_standin, public_base_url=f"http://127.0.0.1:{app_port}"
    )


@pytest.fixture
async def live_app(app: Quart, app_port: int) -> AsyncIterator[str]:
    """The app on a real Hypercorn server, for requests that race over their own connections."""
    async with served(app, app_port) as base_url:
        yield base_url


def keyed(app: Quart, key: str) -> dict[str, str]:
    return {**internal_headers(app), "Idempotency-Key": key}


async def anonymous_lines(db: AsyncSession, sid: str = SID) -> dict[str, Any]:
    page = await f.page(db, "bakery", "The Bakery")
    loaf = await f.product(db, page, "Sourdough loaf", "4.50")
    rye = await f.product(db, page, "Seeded rye", "3.80")
    await f.cart_item(db, loaf, session_id=sid, quantity=2)
    await f.cart_item(db, rye, session_id=sid, quantity=1)
    return {"page": page, "loaf": loaf, "rye": rye}


async def paid_order(app: Quart, client: Any, db: AsyncSession, control: StandinControl) -> Order:
    """User 7's bakery order, paid."""
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    await control.pay(str(order.sumup_checkout_id))
    assert "Thank you" in await text(await client.get(f"/checkout/return/{order.id}/"))
    return await only_order(db)


def test_a_key_is_1_to_255_printable_ascii_characters() -> None:
    assert valid_key("a") and valid_key("x" * 255) and valid_key("9f1c-4e2a ~!")
    assert not valid_key("") and not valid_key("x" * 256)
    assert not valid_key("clé") and not valid_key("tab\there") and not valid_key("\x7f")


def test_the_same_json_in_another_order_or_spacing_is_the_same_request() -> None:
    same = fingerprint("POST", ADOPT, b'{"user_id": 1, "session_id": "s"}')
    assert same == fingerprint("POST", ADOPT, b'{"session_id":"s","user_id":1}')
    assert same != fingerprint("POST", ADOPT, b'{"session_id":"s","user_id":2}')
    assert same != fingerprint("POST", "/internal/cart/orders/1/refund", b'{"user_id": 1}')


async def test_a_repeat_gets_the_kept_answer_and_adopts_nothing_more(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await anonymous_lines(db)
    body = {"user_id": 3, "session_id": SID}

    first = await client.post(ADOPT, json=body, headers=keyed(app, "sign-in-3-a"))
    # The anonymous cart gains a line after the first adoption; a replay must not adopt it.
    await f.cart_item(db, await f.product(db, shop["page"], "Honey cake", "2.20"), session_id=SID)
    again = await client.post(ADOPT, json=body, headers=keyed(app, "sign-in-3-a"))

    assert first.status_code == again.status_code == 200
    assert (
        await again.get_json()
        == await first.get_json()
        == {
            "items": 3,
            "entries": 0,
            "tickets": 0,
            "orders": 0,
        }
    )
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await lines_of(db, user_id=3) == {shop["loaf"].id: 2, shop["rye"].id: 1}
    assert len(await lines_of(db, session_id=SID)) == 1

    fresh = await client.post(ADOPT, json=body, headers=keyed(app, "sign-in-3-b"))
    assert (await fresh.get_json())["items"] == 1
    assert "Idempotent-Replayed" not in fresh.headers


async def test_a_key_whose_request_is_still_running_is_refused_with_when_to_retry(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await anonymous_lines(db)
    body = {"user_id": 3, "session_id": SID}
    endpoint = next(rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == ADOPT)
    # Another worker has claimed the key and is adopting right now.
    sent = fingerprint("POST", ADOPT, json.dumps(body).encode())
    running = {"state": "running", "fingerprint": sent, "claim": "other-worker"}
    await runtime(app).redis.cart.set(f"idempotency:{endpoint}:k-running", json.dumps(running))

    refused = await client.post(ADOPT, json=body, headers=keyed(app, "k-running"))

    assert refused.status_code == 409
    assert refused.headers["Retry-After"] == "1"
    assert (await refused.get_json())["error"]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
    assert await lines_of(db, user_id=3) == {}


async def test_the_same_key_with_another_body_is_a_422(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await anonymous_lines(db)
    await client.post(ADOPT, json={"user_id": 3, "session_id": SID}, headers=keyed(app, "k-1"))

    other = await client.post(
        ADOPT, json={"user_id": 4, "session_id": SID}, headers=keyed(app, "k-1")
    )

    assert other.status_code == 422
    error = (await other.get_json())["error"]
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "different request" in error["message"]
    assert await lines_of(db, user_id=4) == {}


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "\x7f"])
async def test_a_malformed_key_is_a_400_and_nothing_is_adopted(
    app: Quart, client: Any, db: AsyncSession, key: str
) -> None:
    await anonymous_lines(db)
    headers = {**internal_headers(app), "Idempotency-Key": key.encode().decode("latin-1")}

    response = await client.post(ADOPT, json={"user_id": 3, "session_id": SID}, headers=headers)

    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert "1 to 255 printable ASCII" in error["message"]
    assert await lines_of(db, user_id=3) == {}


async def test_a_failed_request_keeps_nothing_so_its_retry_runs(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await anonymous_lines(db)

    refused = await client.post(ADOPT, json={"user_id": 3}, headers=keyed(app, "k-2"))
    corrected = await client.post(
        ADOPT, json={"user_id": 3, "session_id": SID}, headers=keyed(app, "k-2")
    )
    kept = await runtime(app).redis.cart.ttl("idempotency:internal_cart.adopt:k-2")

    assert refused.status_code == 400
    assert corrected.status_code == 200 and (await corrected.get_json())["items"] == 3
    assert "Idempotent-Replayed" not in corrected.headers
    # Kept a day, in the cart's own Redis index.
    assert KEPT_SECONDS - 60 < kept <= KEPT_SECONDS == 24 * 3600


@pytest.mark.slow
async def test_concurrent_adoptions_with_one_key_adopt_once(
    app: Quart, db: AsyncSession, live_app: str
) -> None:
    await anonymous_lines(db)
    body = {"user_id": 3, "session_id": SID}

    async def adopt(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post(ADOPT, json=body, headers=keyed(app, "race-1"))

    clients = [httpx.AsyncClient(base_url=live_app, timeout=10) for _ in range(CONCURRENT)]
    try:
        responses = await asyncio.gather(*(adopt(http) for http in clients))
        retry = await adopt(clients[0])
    finally:
        await asyncio.gather(*(http.aclose() for http in clients))

    ran = [r for r in responses if r.status_code == 200 and "Idempotent-Replayed" not in r.headers]
    assert len(ran) == 1
    counts = {"items": 3, "entries": 0, "tickets": 0, "orders": 0}
    assert ran[0].json() == counts
    for response in responses:
        if response.status_code == 409:
            error = response.json()["error"]
            assert error["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
            assert "in progress" in error["message"]
        else:
            assert response.status_code == 200 and response.json() == counts
    assert retry.status_code == 200 and retry.json() == counts
    assert retry.headers["Idempotent-Replayed"] == "true"


@pytest.mark.slow
async def test_concurrent_refunds_with_one_key_refund_once_and_replay_the_answer(
    app: Quart,
    client: Any,
    db: AsyncSession,
    live_app: str,
    sumup_standin_control: StandinControl,
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    path = f"/internal/cart/orders/{order.id}/refund"
    # SumUp answers slowly, so that the repeats arrive while the first refund runs.
    await sumup_standin_control.faults(slow_refund_seconds=0.3)

    async def refund(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post(path, json={"amount": "5.00"}, headers=keyed(app, "refund-1"))

    clients = [httpx.AsyncClient(base_url=live_app, timeout=10) for _ in range(4)]
    try:
        responses = await asyncio.gather(*(refund(http) for http in clients))
        retry = await refund(clients[0])
        # The same key on another route is another request.
        adopt = await clients[1].post(
            ADOPT, json={"user_id": 9, "session_id": SID}, headers=keyed(app, "refund-1")
        )
    finally:
        await asyncio.gather(*(http.aclose() for http in clients))

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    [made] = [r for r in responses if r.status_code == 200]
    assert made.json()["refunded_amount"] == "5.00"
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "IDEMPOTENCY_KEY_IN_PROGRESS"
    }
    assert retry.status_code == 200 and retry.json() == made.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert adopt.status_code == 200 and "Idempotent-Replayed" not in adopt.headers
    checkout = await sumup_standin_control.checkout(str(order.sumup_checkout_id))
    [transaction] = checkout["transactions"]
    refunds = await sumup_standin_control.refunds(transaction["id"])
    assert [Decimal(str(r["amount"])) for r in refunds] == [Decimal("5.00")]
