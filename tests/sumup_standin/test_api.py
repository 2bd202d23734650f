"""The stand-in answers SumUp's checkout and refund API as reference/sumup.md describes."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest

from tests.sumup_standin.conftest import API_KEY, MERCHANT_CODE, MakeCheckout
from tests.support.standin import StandinControl

DATE_WITH_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
TRANSACTION_CODE = re.compile(r"^[A-Z0-9]{10}$")


def validation(code: str, param: str) -> dict[str, str]:
    return {"message": "Validation error", "error_code": code, "param": param}


async def test_create_answers_201_with_the_hosted_checkout_shape(
    sumup_api: httpx.AsyncClient, sumup_standin: str
) -> None:
    response = await sumup_api.post(
        "/v0.1/checkouts",
        json={
            "checkout_reference": "order-17-a1",
            "amount": 10.1,
            "currency": "EUR",
            "merchant_code": MERCHANT_CODE,
            "description": "Order 17",
            "return_url": "https://cart.example/checkout/webhook/17/",
            "redirect_url": "https://cart.example/checkout/return/17/",
            "hosted_checkout": {"enabled": True},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["id"]).version == 4
    assert body["status"] == "PENDING"
    assert body["transactions"] == []
    assert body["amount"] == 10.1
    assert DATE_WITH_MS.match(body["date"])
    assert body["hosted_checkout"] == {"enabled": True}
    assert body["hosted_checkout_url"] == f"{sumup_standin}/pay/c-{body['id']}"
    assert body["return_url"] == "https://cart.example/checkout/webhook/17/"
    assert body["redirect_url"] == "https://cart.example/checkout/return/17/"
    assert body["description"] == "Order 17"
    assert body["merchant_code"] == MERCHANT_CODE
    assert {"merchant_name", "merchant_country", "purpose", "checkout_type"} <= body.keys()
    assert "transaction_code" not in body


async def test_validation_errors_come_as_an_array(sumup_api: httpx.AsyncClient) -> None:
    response = await sumup_api.post("/v0.1/checkouts", json={"amount": 0, "currency": "XXX"})

    assert response.status_code == 400
    assert response.json() == [
        validation("MISSING", "checkout_reference"),
        validation("MISSING", "merchant_code"),
        validation("INVALID", "amount"),
        validation("INVALID", "currency"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("checkout_reference", "r" * 65, "checkout_reference"),
        ("amount", -1, "amount"),
        ("amount", "12.50", "amount"),
        ("currency", "BGN", "currency"),
        ("hosted_checkout", {"enabled": "yes"}, "hosted_checkout.enabled"),
        ("valid_until", "tomorrow", "valid_until"),
    ],
)
async def test_each_invalid_field_is_named(
    sumup_api: httpx.AsyncClient, field: str, value: object, param: str
) -> None:
    body = {"checkout_reference": "r1", "amount": 5, "currency": "EUR", "merchant_code": "M1"}

    response = await sumup_api.post("/v0.1/checkouts", json={**body, field: value})

    assert response.status_code == 400
    assert response.json() == [validation("INVALID", param)]


async def test_a_reference_of_64_characters_is_accepted(make_checkout: MakeCheckout) -> None:
    checkout = await make_checkout(checkout_reference="r" * 64)

    assert checkout["checkout_reference"] == "r" * 64


async def test_validation_errors_as_single_object_when_switched(
    sumup_api: httpx.AsyncClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(single_object_validation_errors=True)

    response = await sumup_api.post("/v0.1/checkouts", json={"currency": "EUR"})

    assert response.status_code == 400
    assert response.json() == validation("MISSING", "checkout_reference")


async def test_missing_key_answers_401_problem_json(sumup_standin: str) -> None:
    async with httpx.AsyncClient(base_url=sumup_standin) as anonymous:
        response = await anonymous.get("/v0.1/checkouts")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert body["type"] == "https://developer.sumup.com/problem/unauthorized"


async def test_any_key_works_until_revoked(
    sumup_api: httpx.AsyncClient, sumup_standin_control: StandinControl
) -> None:
    assert (await sumup_api.get("/v0.1/checkouts")).status_code == 200

    await sumup_standin_control.revoke_key(API_KEY)

    assert (await sumup_api.get("/v0.1/checkouts")).status_code == 401


async def test_legacy_auth_bodies_when_switched(
    sumup_api: httpx.AsyncClient, sumup_standin: str, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(legacy_auth_errors=True)
    await sumup_standin_control.revoke_key(API_KEY)

    revoked = await sumup_api.get("/v0.1/checkouts")
    async with httpx.AsyncClient(base_url=sumup_standin) as anonymous:
        missing = await anonymous.get("/v0.1/checkouts")

    assert revoked.json() == {
        "error_message": "invalid access token",
        "error_code": "NOT_AUTHORIZED",
    }
    assert missing.json() == {"message": "access token required", "error_code": "NOT_AUTHORIZED"}


async def test_disabled_merchant_cannot_create(
    sumup_api: httpx.AsyncClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.disable_merchant("MOFF")
    body = {"checkout_reference": "r1", "amount": 5, "currency": "EUR", "merchant_code": "MOFF"}

    response = await sumup_api.post("/v0.1/checkouts", json=body)

    assert response.status_code == 403
    assert response.json()["error_code"] == "FORBIDDEN"


async def test_duplicate_reference_is_409_even_after_expiry(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout(checkout_reference="order-1")
    await sumup_standin_control.expire(checkout["id"])
    body = {"checkout_reference": "order-1", "amount": 5, "currency": "EUR"}

    duplicate = await sumup_api.post(
        "/v0.1/checkouts", json={**body, "merchant_code": MERCHANT_CODE}
    )
    other_merchant = await sumup_api.post(
        "/v0.1/checkouts", json={**body, "merchant_code": "MOTHER"}
    )

    assert duplicate.status_code == 409
    assert duplicate.json()["error_code"] == "DUPLICATED_CHECKOUT"
    assert other_merchant.status_code == 201


async def test_concurrent_creates_with_one_reference_make_one_checkout(
    sumup_api: httpx.AsyncClient, sumup_standin_control: StandinControl
) -> None:
    body = {"checkout_reference": "race", "amount": 5, "currency": "EUR"}

    responses = await asyncio.gather(
        *(sumup_api.post("/v0.1/checkouts", json={**body, "merchant_code": "M1"}) for _ in range(8))
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_get_list_and_not_found(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout
) -> None:
    checkout = await make_checkout(checkout_reference="order-2")

    fetched = await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")
    listed = await sumup_api.get("/v0.1/checkouts", params={"checkout_reference": "order-2"})
    none = await sumup_api.get("/v0.1/checkouts", params={"checkout_reference": "nope"})
    unknown = await sumup_api.get(f"/v0.1/checkouts/{uuid.uuid4()}")

    assert fetched.json() == checkout
    assert listed.json() == [checkout]
    assert none.json() == []
    assert unknown.status_code == 404
    assert unknown.json() == {"error_code": "NOT_FOUND", "message": "Resource not found"}


async def test_another_merchants_key_sees_404(
    make_checkout: MakeCheckout, sumup_standin: str
) -> None:
    checkout = await make_checkout()
    headers = {"Authorization": "Bearer someone-else"}

    async with httpx.AsyncClient(base_url=sumup_standin, headers=headers) as other:
        response = await other.get(f"/v0.1/checkouts/{checkout['id']}")

    assert response.status_code == 404


async def test_paying_records_a_successful_ecom_transaction(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()

    await sumup_standin_control.pay(checkout["id"])

    body = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()
    assert body["status"] == "PAID"
    [txn] = body["transactions"]
    assert txn["status"] == "SUCCESSFUL"
    assert txn["payment_type"] == "ECOM"
    assert txn["entry_mode"] == "CUSTOMER_ENTRY"
    assert txn["amount"] == 12.5
    assert TRANSACTION_CODE.match(txn["transaction_code"])
    assert body["transaction_code"] == txn["transaction_code"]
    assert body["transaction_id"] == txn["id"]


async def test_a_failed_checkout_can_still_be_paid(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()

    failed = await sumup_standin_control.fail(checkout["id"])
    paid = await sumup_standin_control.pay(checkout["id"])

    assert failed["status"] == "FAILED"
    assert [t["status"] for t in failed["transactions"]] == ["FAILED"]
    assert paid["status"] == "PAID"
    assert [t["status"] for t in paid["transactions"]] == ["FAILED", "SUCCESSFUL"]


@pytest.mark.parametrize("amount", [11.00, 42.01, 42.76, 42.91])
async def test_sandbox_failing_amounts_fail(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl, amount: float
) -> None:
    checkout = await make_checkout(amount=amount)

    result = await sumup_standin_control.pay(checkout["id"])

    assert result["status"] == "FAILED"
    assert [t["status"] for t in result["transactions"]] == ["FAILED"]


async def test_deactivate_expires_and_paid_is_processed(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    pending = await make_checkout()
    paid = await make_checkout()
    await sumup_standin_control.pay(paid["id"])

    expired = await sumup_api.delete(f"/v0.1/checkouts/{pending['id']}")
    processed = await sumup_api.delete(f"/v0.1/checkouts/{paid['id']}")
    unknown = await sumup_api.delete(f"/v0.1/checkouts/{uuid.uuid4()}")

    assert expired.status_code == 200
    assert expired.json()["status"] == "EXPIRED"
    assert processed.status_code == 409
    assert processed.json() == {
        "error_code": "CHECKOUT_PROCESSED",
        "message": "Checkout is already processed",
    }
    assert unknown.status_code == 404


async def test_refunds_in_part_then_in_full_then_conflict(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout(amount=20)
    paid = await sumup_standin_control.pay(checkout["id"])
    txn_id = paid["transaction_id"]

    partial = await sumup_api.post(f"/v0.1/me/refund/{txn_id}", json={"amount": 5})
    too_much = await sumup_api.post(f"/v0.1/me/refund/{txn_id}", json={"amount": 15.01})
    rest = await sumup_api.post(f"/v0.1/me/refund/{txn_id}")
    again = await sumup_api.post(f"/v0.1/me/refund/{txn_id}")
    unknown = await sumup_api.post(f"/v0.1/me/refund/{uuid.uuid4()}")

    assert (partial.status_code, partial.content) == (204, b"")
    assert too_much.status_code == 409
    assert rest.status_code == 204
    assert again.status_code == 409
    assert again.json()["error_code"] == "CONFLICT"
    assert unknown.status_code == 404
    [txn] = (await sumup_standin_control.checkout(checkout["id"]))["transactions"]
    assert (txn["status"], txn["refunded_amount"]) == ("REFUNDED", 20.0)


async def test_a_failed_transaction_is_not_refundable(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    failed = await sumup_standin_control.fail(checkout["id"])

    response = await sumup_api.post(f"/v0.1/me/refund/{failed['transactions'][0]['id']}")

    assert response.status_code == 409


async def test_current_refund_endpoint_answers_201(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    paid = await sumup_standin_control.pay((await make_checkout())["id"])
    path = f"/v1.0/merchants/{MERCHANT_CODE}/payments/{paid['transaction_id']}/refunds"

    first = await sumup_api.post(path)
    second = await sumup_api.post(path)

    assert (first.status_code, first.json()) == (201, {})
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"


async def test_fail_get_5xx_answers_the_next_calls_with_problem_json(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.faults(fail_get_5xx={"value": 503, "times": 2})

    statuses = [
        (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).status_code for _ in range(3)
    ]

    assert statuses == [503, 503, 200]


async def test_fail_create_5xx_creates_nothing(
    sumup_api: httpx.AsyncClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(fail_create_5xx=1)
    body = {"checkout_reference": "r1", "amount": 5, "currency": "EUR", "merchant_code": "M1"}

    first = await sumup_api.post("/v0.1/checkouts", json=body)
    second = await sumup_api.post("/v0.1/checkouts", json=body)

    assert first.status_code == 500
    assert first.json()["status"] == 500
    assert second.status_code == 201


async def test_status_lag_answers_pending_for_the_next_gets(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.faults(status_lag=2)
    await sumup_standin_control.pay(checkout["id"])

    seen = [
        (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()["status"]
        for _ in range(3)
    ]

    assert seen == ["PENDING", "PENDING", "PAID"]


async def test_omit_transaction_fields_leaves_only_the_list(
    sumup_api: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.pay(checkout["id"])
    await sumup_standin_control.faults(omit_transaction_fields=True)

    body = (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()

    assert "transaction_id" not in body
    assert "transaction_code" not in body
    assert body["transactions"][0]["status"] == "SUCCESSFUL"


async def test_unknown_fault_switch_is_refused(sumup_standin: str) -> None:
    async with httpx.AsyncClient(base_url=sumup_standin) as control:
        response = await control.post("/_standin/faults", json={"make_it_rain": True})

    assert response.status_code == 400
    assert "make_it_rain" in response.json()["error"]


async def test_reset_forgets_checkouts_and_faults(
    make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await make_checkout()
    await sumup_standin_control.faults(drop_webhook=True)

    await sumup_standin_control.reset()

    assert await sumup_standin_control.checkouts() == []
    assert await sumup_standin_control.faults() == {}
