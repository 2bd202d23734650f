"""Refunds on a transaction, the transaction lookup, and the switches that lose refund answers."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.sumup_standin.conftest import API_KEY, MERCHANT_CODE, MakeCheckout
from tests.support.standin import StandinControl

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOOKUP = f"/v2.1/merchants/{MERCHANT_CODE}/transactions"


def legacy_path(txn_id: str) -> str:
    return f"/v0.1/me/refund/{txn_id}"


def current_path(txn_id: str, merchant_code: str = MERCHANT_CODE) -> str:
    return f"/v1.0/merchants/{merchant_code}/payments/{txn_id}/refunds"


async def paid_transaction(
    make_checkout: MakeCheckout, control: StandinControl, amount: float = 20
) -> str:
    """A paid checkout's transaction id."""
    paid = await control.pay((await make_checkout(amount=amount))["id"])
    txn_id: str = paid["transaction_id"]
    return txn_id


async def lookup(api: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await api.get(LOOKUP, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_refund_is_recorded_on_the_transaction(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)

    legacy = await sumup_api.post(legacy_path(txn_id), json={"amount": 5})
    current = await sumup_api.post(current_path(txn_id), json={"amount": 2.5})
    rest = await sumup_api.post(legacy_path(txn_id))

    assert (legacy.status_code, legacy.content) == (204, b"")
    assert (current.status_code, current.json()) == (201, {})
    assert rest.status_code == 204
    refunds = await sumup_standin_control.refunds(txn_id)
    assert [r["amount"] for r in refunds] == [5.0, 2.5, 12.5]
    assert [r["status"] for r in refunds] == ["REFUNDED"] * 3
    assert len({r["id"] for r in refunds}) == 3
    assert all(TIMESTAMP.match(r["timestamp"]) for r in refunds)
    standin = (await sumup_standin_control.transaction(txn_id))["standin"]
    assert (standin["refunded_amount"], standin["refundable_amount"]) == (20.0, 0.0)


async def test_the_lookup_shows_the_transaction_and_its_refunds(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout(amount=20, description="Three jars of honey")
    paid = await sumup_standin_control.pay(checkout["id"])
    txn_id = paid["transaction_id"]
    before = await lookup(sumup_api, id=txn_id)

    await sumup_api.post(legacy_path(txn_id), json={"amount": 5})
    await sumup_api.post(current_path(txn_id), json={"amount": 2.5})
    by_id = await lookup(sumup_api, id=txn_id)
    by_code = await lookup(sumup_api, transaction_code=paid["transaction_code"])

    assert (before["status"], before["simple_status"], before["events"]) == (
        "SUCCESSFUL",
        "SUCCESSFUL",
        [],
    )
    assert by_id == by_code
    assert by_id["id"] == txn_id
    assert by_id["transaction_code"] == paid["transaction_code"]
    assert (by_id["amount"], by_id["currency"]) == (20.0, "EUR")
    assert by_id["merchant_code"] == MERCHANT_CODE
    assert by_id["product_summary"] == "Three jars of honey"
    # Refunded in part already reads REFUNDED, as SumUp's TransactionStatus says.
    assert (by_id["status"], by_id["simple_status"]) == ("REFUNDED", "REFUNDED")
    events = by_id["events"]
    assert [(e["type"], e["status"], e["amount"]) for e in events] == [
        ("REFUND", "REFUNDED", 5.0),
        ("REFUND", "REFUNDED", 2.5),
    ]
    assert all(e["transaction_id"] == txn_id for e in events)
    assert [e["event_type"] for e in by_id["transaction_events"]] == ["REFUND", "REFUND"]
    assert [e["id"] for e in by_id["transaction_events"]] == [e["id"] for e in events]
    [link] = by_id["links"]
    assert link["rel"] == "refund"
    assert link["max_amount"] == 12.5


async def test_the_checkout_shows_its_transaction_refunded(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    txn_id = (await sumup_standin_control.pay(checkout["id"]))["transaction_id"]

    await sumup_api.post(current_path(txn_id), json={"amount": 1})

    body = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()
    assert body["status"] == "PAID"
    assert [t["status"] for t in body["transactions"]] == ["REFUNDED"]
    assert body["transaction_id"] == txn_id


async def test_a_fully_refunded_transaction_offers_no_refund_link(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)

    await sumup_api.post(legacy_path(txn_id))

    body = await lookup(sumup_api, id=txn_id)
    assert body["links"] == []
    assert [e["amount"] for e in body["events"]] == [20.0]


async def test_more_than_is_left_is_409_legacy_and_422_current(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await sumup_api.post(legacy_path(txn_id), json={"amount": 15})

    legacy = await sumup_api.post(legacy_path(txn_id), json={"amount": 5.01})
    current = await sumup_api.post(current_path(txn_id), json={"amount": 5.01})

    assert legacy.status_code == 409
    assert legacy.json() == {
        "error_code": "CONFLICT",
        "message": "The transaction is not refundable in its current state",
    }
    assert current.status_code == 422
    assert current.headers["content-type"] == "application/problem+json"
    problem = current.json()
    assert (problem["status"], problem["detail"]) == (422, "Refund failed.")
    assert problem["errors"] == [
        {"code": "INVALID_AMOUNT", "reason": "amount_too_high", "max_refundable_amount": 5.0}
    ]
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [15.0]


async def test_a_failed_transaction_cannot_be_refunded_on_either_endpoint(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    failed = await sumup_standin_control.fail((await make_checkout())["id"])
    txn_id = failed["transactions"][0]["id"]

    legacy = await sumup_api.post(legacy_path(txn_id))
    current = await sumup_api.post(current_path(txn_id))
    body = await lookup(sumup_api, id=txn_id)

    assert legacy.status_code == 409
    assert current.status_code == 409
    assert (body["status"], body["simple_status"], body["events"]) == ("FAILED", "FAILED", [])


async def test_current_endpoint_under_another_merchant_code_is_404(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await make_checkout(merchant_code="MOTHER")  # the key sees MOTHER too

    response = await sumup_api.post(current_path(txn_id, merchant_code="MOTHER"))

    assert response.status_code == 404
    assert response.json()["detail"] == "Transaction not found"
    assert await sumup_standin_control.refunds(txn_id) == []


async def test_another_merchants_transaction_is_404(
    sumup_api: httpx.AsyncClient,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    sumup_standin: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await make_checkout(merchant_code="MOTHER")

    other_path = await sumup_api.get("/v2.1/merchants/MOTHER/transactions", params={"id": txn_id})
    async with httpx.AsyncClient(
        base_url=sumup_standin, headers={"Authorization": "Bearer someone-else"}
    ) as other_key:
        other_lookup = await other_key.get(LOOKUP, params={"id": txn_id})
        other_refund = await other_key.post(legacy_path(txn_id))

    for response in (other_path, other_lookup, other_refund):
        assert response.status_code == 404
        assert response.json() == {"error_code": "NOT_FOUND", "message": "Resource not found"}
    assert await sumup_standin_control.refunds(txn_id) == []


async def test_lookup_of_unknown_transaction_is_404_and_without_a_key_is_400(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await paid_transaction(make_checkout, sumup_standin_control)

    unknown = await sumup_api.get(LOOKUP, params={"id": str(uuid.uuid4())})
    foreign = await sumup_api.get(LOOKUP, params={"foreign_transaction_id": "x"})
    nothing = await sumup_api.get(LOOKUP)

    assert (unknown.status_code, foreign.status_code) == (404, 404)
    assert nothing.status_code == 400
    assert nothing.headers["content-type"] == "application/problem+json"
    assert "transaction_code" in nothing.json()["detail"]


async def test_the_lookup_needs_a_key(sumup_standin: str) -> None:
    async with httpx.AsyncClient(base_url=sumup_standin) as anonymous:
        response = await anonymous.get(LOOKUP, params={"id": "x"})

    assert response.status_code == 401


async def test_racing_full_refunds_refund_once(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)

    responses = await asyncio.gather(
        *(sumup_api.post(legacy_path(txn_id)) for _ in range(4)),
        *(sumup_api.post(current_path(txn_id)) for _ in range(4)),
    )

    assert sorted(r.status_code for r in responses).count(409) == 7
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [20.0]


async def test_racing_partial_refunds_never_exceed_the_amount(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control, amount=10)

    responses = await asyncio.gather(
        *(sumup_api.post(legacy_path(txn_id), json={"amount": 3}) for _ in range(6))
    )

    assert sorted(r.status_code for r in responses) == [204, 204, 204, 409, 409, 409]
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [3.0] * 3


@pytest.mark.parametrize("endpoint", ["legacy", "current"])
async def test_fail_refund_5xx_refunds_nothing(
    sumup_api: httpx.AsyncClient,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    endpoint: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    path = legacy_path(txn_id) if endpoint == "legacy" else current_path(txn_id)
    await sumup_standin_control.faults(fail_refund_5xx={"value": 503, "times": 2})

    statuses = [(await sumup_api.post(path, json={"amount": 1})).status_code for _ in range(3)]

    assert statuses[:2] == [503, 503]
    assert statuses[2] in (201, 204)
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [1.0]


@pytest.mark.parametrize("endpoint", ["legacy", "current"])
async def test_fail_refund_5xx_after_apply_refunds_then_answers_5xx(
    sumup_api: httpx.AsyncClient,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    endpoint: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    path = legacy_path(txn_id) if endpoint == "legacy" else current_path(txn_id)
    await sumup_standin_control.faults(fail_refund_5xx_after_apply=1)

    first = await sumup_api.post(path, json={"amount": 1})
    second = await sumup_api.post(path, json={"amount": 1})

    assert first.status_code == 500
    assert first.headers["content-type"] == "application/problem+json"
    assert second.status_code in (201, 204)
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [1.0, 1.0]
    assert await sumup_standin_control.faults() == {}


async def test_after_apply_switches_wait_for_a_refund_that_is_made(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await sumup_standin_control.faults(fail_refund_5xx_after_apply=1)

    refused = await sumup_api.post(legacy_path(txn_id), json={"amount": 99})
    made = await sumup_api.post(legacy_path(txn_id), json={"amount": 1})

    assert (refused.status_code, made.status_code) == (409, 500)
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [1.0]


@pytest.mark.parametrize("endpoint", ["legacy", "current"])
async def test_slow_refund_is_made_before_the_client_gives_up(
    sumup_standin: str,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    endpoint: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    path = legacy_path(txn_id) if endpoint == "legacy" else current_path(txn_id)
    await sumup_standin_control.faults(slow_refund_seconds={"value": 2.0, "times": 1})

    async with httpx.AsyncClient(
        base_url=sumup_standin, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=0.3
    ) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(path)

    # The refund went through although its answer never arrived.
    [refund] = await sumup_standin_control.refunds(txn_id)
    assert refund["amount"] == 20.0


@pytest.mark.parametrize("endpoint", ["legacy", "current"])
async def test_drop_refund_answer_makes_the_refund_and_breaks_the_connection(
    sumup_api: httpx.AsyncClient,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    endpoint: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    path = legacy_path(txn_id) if endpoint == "legacy" else current_path(txn_id)
    await sumup_standin_control.faults(drop_refund_answer={"value": True, "times": 1})

    with pytest.raises(httpx.RemoteProtocolError):
        await sumup_api.post(path, json={"amount": 4})
    after = await sumup_api.post(path, json={"amount": 1})

    assert after.status_code in (201, 204)
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [4.0, 1.0]


async def test_lookup_switches_fail_and_slow_the_lookup_only(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    txn_id = (await sumup_standin_control.pay(checkout["id"]))["transaction_id"]
    await sumup_standin_control.faults(fail_transaction_get_5xx={"value": 502, "times": 1})

    failed = await sumup_api.get(LOOKUP, params={"id": txn_id})
    checkout_read = await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")
    again = await sumup_api.get(LOOKUP, params={"id": txn_id})

    assert (failed.status_code, checkout_read.status_code, again.status_code) == (502, 200, 200)

    await sumup_standin_control.faults(slow_transaction_get_seconds={"value": 2.0, "times": 1})
    with pytest.raises(httpx.ReadTimeout):
        await sumup_api.get(LOOKUP, params={"id": txn_id}, timeout=0.3)


@pytest.mark.parametrize(
    ("switch", "value"),
    [
        ("fail_refund_5xx", {"value": 404}),
        ("fail_refund_5xx_after_apply", "yes"),
        ("slow_refund_seconds", -1),
        ("drop_refund_answer", 2),
        ("fail_transaction_get_5xx", {"value": 200}),
        ("slow_transaction_get_seconds", "soon"),
    ],
)
async def test_refund_switches_refuse_unusable_values(
    sumup_standin: str, switch: str, value: object
) -> None:
    async with httpx.AsyncClient(base_url=sumup_standin) as control:
        response = await control.post("/_standin/faults", json={switch: value})

    assert response.status_code == 400
    assert switch in response.json()["error"]


async def test_control_view_of_an_unknown_transaction_is_404(sumup_standin: str) -> None:
    async with httpx.AsyncClient(base_url=sumup_standin) as control:
        response = await control.get(f"/_standin/transactions/{uuid.uuid4()}")

    assert response.status_code == 404


async def test_reset_forgets_refunds_and_their_switches(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    await sumup_api.post(legacy_path(txn_id))
    await sumup_standin_control.faults(slow_refund_seconds=5, fail_refund_5xx=True)

    await sumup_standin_control.reset()

    assert await sumup_standin_control.faults() == {}
    assert (await sumup_api.get(LOOKUP, params={"id": txn_id})).status_code == 404
