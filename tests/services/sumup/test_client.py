"""The SumUp client against the stand-in over real HTTP: values parsed, errors typed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http import HTTPStatus

import aiohttp
import pytest
from pydantic import ValidationError

from services.sumup import (
    CheckoutStatus,
    PaymentGateway,
    SumUpCheckout,
    SumUpClient,
    SumUpCredentials,
    SumUpError,
    SumUpTransaction,
    SumUpTransactionRef,
    TransactionStatus,
    is_checkout_id,
    open_session,
    to_sumup_amount,
)
from services.sumup.errors import error_from_response
from tests.sumup_standin.receiver import WebhookReceiver
from tests.support.standin import StandinControl

API_KEY = "sup_sk_test_client_secret"
CREDENTIALS = SumUpCredentials(api_key=API_KEY, merchant_code="MCLIENT1")
WEBHOOK_URL = "https://cart.example/checkout/webhook/7/"
RETURN_URL = "https://cart.example/checkout/return/7/"


@asynccontextmanager
async def client_of(base_url: str, *, answer_seconds: float = 5.0) -> AsyncIterator[SumUpClient]:
    """The client as the app builds it: a session with the app's timeouts, on SUMUP_API_BASE."""
    async with open_session(answer_seconds=answer_seconds, connect_seconds=2.0) as http:
        yield SumUpClient(http, base_url=base_url)


@pytest.fixture
async def sumup(sumup_standin: str) -> AsyncIterator[SumUpClient]:
    """The client as the app builds it, on the stand-in."""
    async with client_of(sumup_standin) as client:
        yield client


@pytest.fixture
async def impatient_sumup(sumup_standin: str) -> AsyncIterator[SumUpClient]:
    """A client that gives up when SumUp is silent for 0.3 s."""
    async with client_of(sumup_standin, answer_seconds=0.3) as client:
        yield client


async def create(
    sumup: PaymentGateway, reference: str = "order-7-1", amount: str = "12.50"
) -> SumUpCheckout:
    """A checkout made the way the checkout flow makes one."""
    return await sumup.create_checkout(
        credentials=CREDENTIALS,
        reference=reference,
        amount=Decimal(amount),
        currency="EUR",
        description="Order 7",
        return_url=WEBHOOK_URL,
        redirect_url=RETURN_URL,
    )


async def test_create_checkout_parses_the_hosted_checkout(
    sumup: SumUpClient, sumup_standin: str, sumup_standin_control: StandinControl
) -> None:
    valid_until = datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    checkout = await sumup.create_checkout(
        credentials=CREDENTIALS,
        reference="order-7-1",
        amount=Decimal("10.10"),
        currency="EUR",
        description="Order 7",
        return_url=WEBHOOK_URL,
        redirect_url=RETURN_URL,
        valid_until=valid_until,
    )

    assert checkout.status is CheckoutStatus.PENDING
    assert checkout.amount == Decimal("10.1")
    assert checkout.currency == "EUR"
    assert checkout.checkout_reference == "order-7-1"
    assert checkout.merchant_code == "MCLIENT1"
    assert checkout.hosted_checkout_url == f"{sumup_standin}/pay/c-{checkout.id}"
    assert checkout.return_url == WEBHOOK_URL
    assert checkout.redirect_url == RETURN_URL
    assert checkout.valid_until == valid_until
    assert checkout.date is not None and checkout.date.tzinfo is not None
    assert checkout.transactions == []
    assert checkout.successful_transaction() is None
    [stored] = await sumup_standin_control.checkouts()
    assert stored["amount"] == 10.1
    assert stored["hosted_checkout"] == {"enabled": True}
    assert stored["valid_until"] == "2030-01-02T03:04:05.000+00:00"


async def test_get_and_list_by_reference(sumup: SumUpClient) -> None:
    created = await create(sumup)

    fetched = await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=created.id)
    listed = await sumup.list_checkouts(credentials=CREDENTIALS, reference="order-7-1")
    none = await sumup.list_checkouts(credentials=CREDENTIALS, reference="order-7-2")

    assert fetched == created
    assert listed == [created]
    assert none == []


async def test_duplicate_reference_raises_conflict(sumup: SumUpClient) -> None:
    await create(sumup)

    with pytest.raises(SumUpError) as raised:
        await create(sumup)

    error = raised.value
    assert (error.status, error.code) == (409, "DUPLICATED_CHECKOUT")
    assert error.is_conflict
    assert not error.is_retryable


async def test_validation_array_gives_every_param(sumup: SumUpClient) -> None:
    with pytest.raises(SumUpError) as raised:
        await sumup.create_checkout(
            credentials=SumUpCredentials(api_key=API_KEY, merchant_code=""),
            reference="order-7-1",
            amount=Decimal("5"),
            currency="XYZ",
            description="Order 7",
            return_url=WEBHOOK_URL,
        )

    error = raised.value
    assert (error.status, error.code) == (400, "MISSING")
    assert error.params == ["merchant_code", "currency"]
    assert error.message == "Validation error"


async def test_validation_single_object_gives_its_param(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(single_object_validation_errors=True)

    with pytest.raises(SumUpError) as raised:
        await create(sumup, amount="0")

    assert (raised.value.status, raised.value.code, raised.value.params) == (
        400,
        "INVALID",
        ["amount"],
    )


async def test_revoked_key_gives_problem_json_401(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.revoke_key(API_KEY)

    with pytest.raises(SumUpError) as raised:
        await create(sumup)

    error = raised.value
    assert (error.status, error.code, error.message) == (401, "NOT_AUTHORIZED", "Unauthorized.")
    assert error.problem_type == "https://developer.sumup.com/problem/unauthorized"
    assert not error.is_retryable


async def test_legacy_401_bodies_are_read(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(legacy_auth_errors=True)
    await sumup_standin_control.revoke_key(API_KEY)
    no_key = SumUpCredentials(api_key="", merchant_code="MCLIENT1")

    with pytest.raises(SumUpError) as revoked:
        await sumup.list_checkouts(credentials=CREDENTIALS, reference="x")
    with pytest.raises(SumUpError) as missing:
        await sumup.list_checkouts(credentials=no_key, reference="x")

    assert (revoked.value.code, revoked.value.message) == ("NOT_AUTHORIZED", "invalid access token")
    assert (missing.value.code, missing.value.message) == (
        "NOT_AUTHORIZED",
        "access token required",
    )


async def test_disabled_merchant_gives_forbidden(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.disable_merchant(CREDENTIALS.merchant_code)

    with pytest.raises(SumUpError) as raised:
        await create(sumup)

    assert (raised.value.status, raised.value.code) == (403, "FORBIDDEN")
    assert raised.value.message == "checkout_payments_not_allowed"


async def test_unknown_checkout_is_not_found(sumup: SumUpClient) -> None:
    with pytest.raises(SumUpError) as raised:
        await sumup.get_checkout(credentials=CREDENTIALS, checkout_id="no-such/checkout")

    assert raised.value.is_not_found
    assert raised.value.code == "NOT_FOUND"


async def test_deactivate_then_conflict_once_paid(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    pending = await create(sumup, reference="order-7-1")
    paid = await create(sumup, reference="order-7-2")
    await sumup_standin_control.pay(paid.id)

    expired = await sumup.deactivate_checkout(credentials=CREDENTIALS, checkout_id=pending.id)
    with pytest.raises(SumUpError) as raised:
        await sumup.deactivate_checkout(credentials=CREDENTIALS, checkout_id=paid.id)

    assert expired.status is CheckoutStatus.EXPIRED
    assert (raised.value.status, raised.value.code) == (409, "CHECKOUT_PROCESSED")


async def test_paid_checkout_names_its_transaction(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    checkout = await create(sumup)
    await sumup_standin_control.pay(checkout.id)

    paid = await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)

    assert paid.status is CheckoutStatus.PAID
    [txn] = paid.transactions
    assert txn.status is TransactionStatus.SUCCESSFUL
    assert txn.amount == Decimal("12.5")
    assert paid.successful_transaction() == SumUpTransactionRef(
        id=txn.id, code=txn.transaction_code
    )
    assert paid.transaction_id == txn.id


async def test_transaction_found_when_top_level_fields_are_absent(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    checkout = await create(sumup)
    await sumup_standin_control.fail(checkout.id)
    await sumup_standin_control.pay(checkout.id)
    await sumup_standin_control.faults(omit_transaction_fields=True)

    paid = await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)

    assert (paid.transaction_id, paid.transaction_code) == (None, None)
    successful = next(t for t in paid.transactions if t.status is TransactionStatus.SUCCESSFUL)
    assert paid.successful_transaction() == SumUpTransactionRef(
        id=successful.id, code=successful.transaction_code
    )


async def test_refund_in_full_then_conflict(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    checkout = await create(sumup)
    await sumup_standin_control.pay(checkout.id)
    paid = await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)
    transaction = paid.successful_transaction()
    assert transaction is not None and transaction.id is not None

    await sumup.refund(credentials=CREDENTIALS, transaction_id=transaction.id)
    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id=transaction.id)

    assert (raised.value.status, raised.value.code) == (409, "CONFLICT")
    refunded = await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)
    assert refunded.transactions[0].status is TransactionStatus.REFUNDED
    # A refund turns SUCCESSFUL into REFUNDED; the payment is still found.
    assert refunded.successful_transaction() == transaction


async def test_partial_refunds_up_to_the_amount(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    checkout = await create(sumup, amount="12.50")
    paid = await sumup_standin_control.pay(checkout.id)
    txn_id = paid["transaction_id"]

    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("5"))
    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("7.50"))
    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("0.01"))

    assert raised.value.is_conflict
    [txn] = (await sumup_standin_control.checkout(checkout.id))["transactions"]
    assert txn["refunded_amount"] == 12.5


async def test_refund_of_unknown_transaction_is_not_found(sumup: SumUpClient) -> None:
    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id="nope")

    assert raised.value.is_not_found


async def test_slow_get_times_out(
    impatient_sumup: SumUpClient, sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    checkout = await create(sumup)
    await sumup_standin_control.faults(slow_get_seconds={"value": 1.0, "times": 1})

    with pytest.raises(SumUpError) as raised:
        await impatient_sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)

    error = raised.value
    assert (error.status, error.code) == (None, "TIMEOUT")
    assert error.is_timeout
    assert error.is_retryable


async def test_lost_create_answer_then_retry_conflicts_and_lookup_recovers(
    impatient_sumup: SumUpClient, sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(slow_create_seconds={"value": 1.0, "times": 1})

    with pytest.raises(SumUpError) as lost:
        await create(impatient_sumup)
    with pytest.raises(SumUpError) as retried:
        await create(sumup)
    found = await sumup.list_checkouts(credentials=CREDENTIALS, reference="order-7-1")

    assert lost.value.is_timeout
    assert retried.value.code == "DUPLICATED_CHECKOUT"
    assert [c.checkout_reference for c in found] == ["order-7-1"]


async def test_5xx_is_retryable(sumup: SumUpClient, sumup_standin_control: StandinControl) -> None:
    await sumup_standin_control.faults(fail_create_5xx={"value": 503, "times": 1})

    with pytest.raises(SumUpError) as raised:
        await create(sumup)
    checkout = await create(sumup)

    assert (raised.value.status, raised.value.code) == (503, "SERVER_ERROR")
    assert raised.value.is_retryable
    assert checkout.status is CheckoutStatus.PENDING


async def test_unreachable_sumup_is_a_retryable_network_error() -> None:
    async with client_of("http://127.0.0.1:9") as client:
        with pytest.raises(SumUpError) as raised:
            await create(client)

    assert (raised.value.status, raised.value.code) == (None, "NETWORK")
    assert raised.value.is_retryable
    assert not raised.value.is_timeout


async def test_too_long_reference_is_refused_before_sending(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    with pytest.raises(ValueError, match="64"):
        await create(sumup, reference="r" * 65)

    assert await sumup_standin_control.checkouts() == []


async def test_each_call_logs_one_line_without_the_key(
    sumup: SumUpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="services.sumup.client")

    checkout = await create(sumup)
    await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)

    lines = [r.getMessage() for r in caplog.records if r.name == "services.sumup.client"]
    assert len(lines) == 2
    assert lines[0].startswith("sumup POST /v0.1/checkouts merchant=MCLIENT1 -> 201 in ")
    assert lines[1].startswith(f"sumup GET /v0.1/checkouts/{checkout.id} ")
    assert all(line.endswith(" ms") for line in lines)
    assert not any(API_KEY in line for line in caplog.text.splitlines())


def test_credentials_never_show_the_key() -> None:
    assert API_KEY not in repr(CREDENTIALS)
    assert API_KEY not in str(CREDENTIALS)
    assert "MCLIENT1" in repr(CREDENTIALS)


@pytest.mark.parametrize(
    ("amount", "sent"),
    [("10.1", 10.1), ("12.005", 12.01), ("7", 7.0), ("0.994", 0.99)],
)
def test_amount_is_sent_as_a_float_of_cents(amount: str, sent: float) -> None:
    assert to_sumup_amount(Decimal(amount)) == sent


async def test_the_client_is_a_payment_gateway() -> None:
    async with aiohttp.ClientSession() as http:
        # mypy checks the assignment: SumUpClient must satisfy the protocol.
        gateway: PaymentGateway = SumUpClient(http, base_url="https://api.sumup.com")
    assert isinstance(gateway, SumUpClient)


@pytest.mark.parametrize(
    ("status", "body", "code", "message", "params"),
    [
        (
            502,
            b"<html>Bad gateway</html>",
            "SERVER_ERROR",
            "<html>Bad gateway</html>",
            [],
        ),
        (500, b"", "SERVER_ERROR", "Internal Server Error", []),
        (400, b"not json {", "INVALID", "not json {", []),
        (409, b'"just a string"', "CONFLICT", '"just a string"', []),
        (400, b"[]", "INVALID", "", []),
        (
            400,
            b'[{"error_code":"INVALID","message":"Validation error","param":"amount"},'
            b'{"error_code":"MISSING","message":"Validation error","param":"currency"}, 3]',
            "INVALID",
            "Validation error",
            ["amount", "currency"],
        ),
        (
            404,
            b'{"type":"https://developer.sumup.com/problem/checkout-not-found","title":"Not Found",'
            b'"status":404,"detail":"A checkout session with the id 1 does not exist"}',
            "NOT_FOUND",
            "A checkout session with the id 1 does not exist",
            [],
        ),
        (
            409,
            b'{"error_code":"NOT_ENOUGH_BALANCE","message":"Not enough available balance"}',
            "NOT_ENOUGH_BALANCE",
            "Not enough available balance",
            [],
        ),
        (429, b'{"message": {"nested": true}}', "RATE_LIMITED", "", []),
    ],
)
def test_error_bodies_of_every_shape_become_sumup_errors(
    status: int,
    body: bytes,
    code: str,
    message: str,
    params: list[str],
) -> None:
    error = error_from_response(status, body, HTTPStatus(status).phrase)

    assert (error.status, error.code, error.message, error.params) == (
        status,
        code,
        message,
        params,
    )


async def get_checkout_answered(status: int) -> tuple[SumUpError, WebhookReceiver]:
    """The error of a checkout's read from a server that answers `status` with no body, and
    that server (with the requests it got)."""
    async with (
        WebhookReceiver(then=status) as server,
        client_of(f"http://127.0.0.1:{server.port}") as client,
    ):
        with pytest.raises(SumUpError) as raised:
            await client.get_checkout(credentials=CREDENTIALS, checkout_id="x")
    return raised.value, server


async def test_a_success_body_that_is_not_a_checkout_is_a_sumup_error() -> None:
    # A server answering 200 with an empty body, where a checkout was expected.
    error, _ = await get_checkout_answered(200)

    assert (error.status, error.code) == (200, "INVALID_RESPONSE")
    assert error.message == "unreadable GET answer: 1 errors"


async def test_a_base_url_with_a_path_keeps_it_and_an_id_stays_one_segment() -> None:
    # SUMUP_API_BASE may name a proxy's path; a checkout id is quoted as one path segment.
    async with (
        WebhookReceiver(then=404) as server,
        client_of(f"http://127.0.0.1:{server.port}/sumup/") as client,
    ):
        with pytest.raises(SumUpError):
            await client.get_checkout(credentials=CREDENTIALS, checkout_id="a/b c")
        with pytest.raises(SumUpError):
            await client.list_checkouts(credentials=CREDENTIALS, reference="order 7&1")

    first, second = server.requests
    assert (first.method, first.path) == ("GET", "/sumup/v0.1/checkouts/a%2Fb%20c")
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["accept"] == "application/problem+json, application/json"
    assert second.path == "/sumup/v0.1/checkouts?checkout_reference=order+7%261"


async def test_the_proxy_the_environment_names_is_used_and_no_proxy_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with WebhookReceiver(then=404) as proxy:
        for scheme in ("HTTP", "HTTPS"):
            monkeypatch.setenv(f"{scheme}_PROXY", f"http://cart:s3cret@127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        bases = ("http://api.sumup.example", "https://api.sumup.example", "http://127.0.0.1:9")
        codes = []
        for base in bases:
            async with client_of(base) as client:
                with pytest.raises(SumUpError) as raised:
                    await client.get_checkout(credentials=CREDENTIALS, checkout_id="x")
            codes.append(raised.value.code)

    plain, tunnel = proxy.requests
    assert (plain.method, plain.path) == ("GET", "http://api.sumup.example/v0.1/checkouts/x")
    assert (tunnel.method, tunnel.path) == ("CONNECT", "api.sumup.example:443")
    assert {plain.headers["proxy-authorization"], tunnel.headers["proxy-authorization"]} == {
        "Basic Y2FydDpzM2NyZXQ="
    }
    # Proxied, the plain request is answered by the proxy; the refused tunnel, and the address
    # that is not proxied (nothing listens there), never reach SumUp.
    assert codes == ["NOT_FOUND", "NETWORK", "NETWORK"]


async def test_a_redirect_is_not_followed_but_answered_as_a_failure() -> None:
    error, server = await get_checkout_answered(302)

    assert (error.status, error.message) == (302, "Found")
    assert not error.is_retryable
    assert len(server.requests) == 1


async def paid_transaction_id(
    sumup: SumUpClient, control: StandinControl, amount: str = "12.50"
) -> str:
    """The transaction id of a checkout paid at the stand-in, as the checkout names it."""
    checkout = await create(sumup, amount=amount)
    await control.pay(checkout.id)
    paid = await sumup.get_checkout(credentials=CREDENTIALS, checkout_id=checkout.id)
    transaction = paid.successful_transaction()
    assert transaction is not None and transaction.id is not None
    return transaction.id


async def test_get_transaction_before_any_refund(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)

    transaction = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    assert isinstance(transaction, SumUpTransaction)
    assert transaction.id == txn_id
    assert (transaction.amount, transaction.currency) == (Decimal("12.5"), "EUR")
    assert transaction.status is TransactionStatus.SUCCESSFUL
    assert transaction.merchant_code == "MCLIENT1"
    assert transaction.refunds == []
    assert transaction.refunded_amount == Decimal("0")
    assert transaction.refundable_amount == Decimal("12.5")


async def test_get_transaction_shows_partial_refunds_as_decimals(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control, amount="10.10")

    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("0.10"))
    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("0.20"))
    transaction = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    # 0.1 + 0.2 in floats is 0.30000000000000004; as Decimals from the JSON text it is 0.3.
    assert transaction.refunded_amount == Decimal("0.3")
    assert transaction.refundable_amount == Decimal("9.8")
    assert [r.amount for r in transaction.refunds] == [Decimal("0.1"), Decimal("0.2")]
    assert all(r.is_refund and not r.is_failed for r in transaction.refunds)
    assert all(r.timestamp is not None and r.timestamp.tzinfo for r in transaction.refunds)
    assert len({r.id for r in transaction.refunds}) == 2
    assert transaction.status is TransactionStatus.REFUNDED
    assert transaction.simple_status == "REFUNDED"


async def test_full_refund_then_lookup_by_code(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    code = (await sumup_standin_control.transaction(txn_id))["transaction_code"]

    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id)
    by_code = await sumup.get_transaction(credentials=CREDENTIALS, transaction_code=code)

    assert by_code.id == txn_id
    assert [r.amount for r in by_code.refunds] == [Decimal("12.5")]
    assert by_code.refunded_amount == by_code.amount
    assert by_code.refundable_amount == Decimal("0")


async def test_over_refund_is_refused_and_nothing_is_refunded(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("10"))

    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("2.51"))

    assert (raised.value.status, raised.value.code) == (409, "CONFLICT")
    assert raised.value.is_conflict and not raised.value.is_retryable
    transaction = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)
    assert transaction.refunded_amount == Decimal("10")


async def test_another_merchants_transaction_is_not_found(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    other = SumUpCredentials(api_key="sup_sk_other_merchant", merchant_code="MOTHER")
    other_code = SumUpCredentials(api_key=API_KEY, merchant_code="MOTHER")

    with pytest.raises(SumUpError) as other_key:
        await sumup.get_transaction(credentials=other, transaction_id=txn_id)
    with pytest.raises(SumUpError) as other_merchant:
        await sumup.get_transaction(credentials=other_code, transaction_id=txn_id)
    with pytest.raises(SumUpError) as unknown:
        await sumup.get_transaction(credentials=CREDENTIALS, transaction_id="no-such/txn")

    for raised in (other_key, other_merchant, unknown):
        assert (raised.value.status, raised.value.code) == (404, "NOT_FOUND")
        assert raised.value.is_not_found and not raised.value.is_retryable


async def test_get_transaction_takes_one_key(sumup: SumUpClient) -> None:
    with pytest.raises(ValueError, match="one of"):
        await sumup.get_transaction(credentials=CREDENTIALS)
    with pytest.raises(ValueError, match="one of"):
        await sumup.get_transaction(
            credentials=CREDENTIALS, transaction_id="a", transaction_code="b"
        )


async def test_refund_timed_out_after_apply_is_retryable_yet_made_once(
    impatient_sumup: SumUpClient, sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    await sumup_standin_control.faults(slow_refund_seconds={"value": 1.0, "times": 1})

    with pytest.raises(SumUpError) as raised:
        await impatient_sumup.refund(
            credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("5")
        )
    transaction = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    # Retrying blindly would refund twice; the lookup says the refund went through once.
    assert (raised.value.status, raised.value.code) == (None, "TIMEOUT")
    assert raised.value.is_timeout and raised.value.is_retryable
    assert [r.amount for r in transaction.refunds] == [Decimal("5")]
    assert transaction.refunded_amount == Decimal("5")


async def test_refund_answer_dropped_after_apply_is_a_retryable_network_error(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    await sumup_standin_control.faults(drop_refund_answer={"value": True, "times": 1})

    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id)
    transaction = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    assert (raised.value.status, raised.value.code) == (None, "NETWORK")
    assert raised.value.is_retryable
    assert [r.amount for r in transaction.refunds] == [Decimal("12.5")]


async def test_refund_5xx_after_apply_is_retryable_yet_made(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    await sumup_standin_control.faults(fail_refund_5xx_after_apply={"value": 502, "times": 1})

    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("2"))
    transaction = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    assert (raised.value.status, raised.value.code) == (502, "SERVER_ERROR")
    assert raised.value.is_retryable
    assert transaction.refunded_amount == Decimal("2")


async def test_refund_5xx_before_apply_refunds_nothing_and_a_retry_refunds_once(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    await sumup_standin_control.faults(fail_refund_5xx=1)

    with pytest.raises(SumUpError) as raised:
        await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("2"))
    before_retry = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)
    await sumup.refund(credentials=CREDENTIALS, transaction_id=txn_id, amount=Decimal("2"))
    after_retry = await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    assert (raised.value.status, raised.value.code) == (500, "SERVER_ERROR")
    assert raised.value.is_retryable
    assert before_retry.refunds == []
    assert [r.amount for r in after_retry.refunds] == [Decimal("2")]


async def test_get_transaction_failures_are_sumup_errors(
    impatient_sumup: SumUpClient, sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    await sumup_standin_control.faults(
        fail_transaction_get_5xx={"value": 503, "times": 1},
    )

    with pytest.raises(SumUpError) as unavailable:
        await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)
    await sumup_standin_control.faults(slow_transaction_get_seconds={"value": 1.0, "times": 1})
    with pytest.raises(SumUpError) as slow:
        await impatient_sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    assert (unavailable.value.status, unavailable.value.code) == (503, "SERVER_ERROR")
    assert unavailable.value.is_retryable
    assert slow.value.is_timeout and slow.value.is_retryable


async def test_the_lookup_logs_which_transaction(
    sumup: SumUpClient, sumup_standin_control: StandinControl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="services.sumup.client")
    txn_id = await paid_transaction_id(sumup, sumup_standin_control)
    caplog.clear()

    await sumup.get_transaction(credentials=CREDENTIALS, transaction_id=txn_id)

    [line] = [r.getMessage() for r in caplog.records if r.name == "services.sumup.client"]
    assert line.startswith(
        f"sumup GET /v2.1/merchants/MCLIENT1/transactions?id={txn_id} merchant=MCLIENT1 -> 200 "
    )


def test_refunds_are_read_from_either_event_list_and_counted_once() -> None:
    refund = {"id": 7, "status": "REFUNDED", "amount": 2.5, "timestamp": "2026-01-02T03:04:05Z"}
    failed = {"id": 8, "status": "FAILED", "amount": 1, "timestamp": "2026-01-02T03:05:05Z"}
    payout = {"id": 9, "status": "PAID_OUT", "amount": 10}
    base = {"id": "t1", "amount": 10.1, "currency": "EUR", "status": "REFUNDED"}

    both = SumUpTransaction.model_validate(
        {
            **base,
            "events": [{**refund, "type": "REFUND"}, {**payout, "type": "PAYOUT"}],
            "transaction_events": [{**refund, "event_type": "REFUND"}],
        }
    )
    only_history = SumUpTransaction.model_validate(
        {
            **base,
            "transaction_events": [
                {**refund, "event_type": "REFUND"},
                {**failed, "event_type": "REFUND"},
                {**payout, "event_type": "PAYOUT"},
            ],
        }
    )

    assert [r.id for r in both.refunds] == [7]
    assert both.refunded_amount == Decimal("2.5")
    assert [r.id for r in only_history.refunds] == [7, 8]
    assert only_history.refunded_amount == Decimal("2.5")
    assert only_history.refundable_amount == Decimal("7.6")


def test_a_refund_without_an_amount_is_refused() -> None:
    # The client turns this ValidationError into SumUpError INVALID_RESPONSE, as for any
    # success body it cannot read: better no answer than a refund of unknown size.
    body = {
        "id": "t1",
        "amount": 10,
        "currency": "EUR",
        "status": "REFUNDED",
        "events": [{"id": 1, "type": "REFUND", "status": "REFUNDED"}],
    }

    with pytest.raises(ValidationError, match="no amount"):
        SumUpTransaction.model_validate(body)


@pytest.mark.parametrize(
    "value",
    [
        "64553e20-3f0e-49e4-8af3-fd0eca86ce91",
        "64553E20-3F0E-49E4-8AF3-FD0ECA86CE91",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_checkout_ids_in_canonical_uuid_form_are_accepted(value: str) -> None:
    assert is_checkout_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "64553e20-3f0e-49e4-8af3-fd0eca86ce9",
        "64553e20-3f0e-49e4-8af3-fd0eca86ce911",
        "64553e203f0e49e48af3fd0eca86ce91",
        "{64553e20-3f0e-49e4-8af3-fd0eca86ce91}",
        "urn:uuid:64553e20-3f0e-49e4-8af3-fd0eca86ce91",
        " 64553e20-3f0e-49e4-8af3-fd0eca86ce91",
        "64553e20-3f0e-49e4-8af3-fd0eca86ce91\n",
        "64553e20-3f0e-49e4-8af3-fd0eca86ce9g",
        "64553e20-3f0e-49e4-8af3_fd0eca86ce91",
        "64553e20-3f0e-49e4-8af3-fd0eca86ce9\u0661",  # an Arabic-Indic digit one
        "../../v0.1/me/refund/64553e20-3f0e-49e4",
        "c-64553e20-3f0e-49e4-8af3-fd0eca86ce91",
        None,
        12345,
        b"64553e20-3f0e-49e4-8af3-fd0eca86ce91",
    ],
)
def test_anything_else_is_not_a_checkout_id(value: object) -> None:
    assert not is_checkout_id(value)


async def test_the_standins_checkout_ids_are_well_formed(
    sumup: SumUpClient, sumup_standin_control: StandinControl
) -> None:
    checkouts = [await create(sumup, reference=f"order-7-{n}") for n in range(5)]

    assert all(is_checkout_id(checkout.id) for checkout in checkouts)
    assert all(is_checkout_id(c["id"]) for c in await sumup_standin_control.checkouts())


def test_a_transaction_status_sumup_adds_is_read_not_refused() -> None:
    checkout = SumUpCheckout.model_validate(
        {
            "id": "c1",
            "checkout_reference": "order-7-1",
            "amount": 12.5,
            "currency": "EUR",
            "merchant_code": "MCLIENT1",
            "status": "PAID",
            "transactions": [
                {"id": "t0", "amount": 12.5, "currency": "EUR", "status": "PENDING_REVIEW"},
                {"id": "t1", "amount": 12.5, "currency": "EUR", "status": "SUCCESSFUL"},
            ],
        }
    )
    looked_up = SumUpTransaction.model_validate(
        {"id": "t1", "amount": 12.5, "currency": "EUR", "status": "PARTIALLY_REFUNDED"}
    )

    assert [t.status for t in checkout.transactions] == ["PENDING_REVIEW", "SUCCESSFUL"]
    assert checkout.transactions[1].status is TransactionStatus.SUCCESSFUL
    assert checkout.successful_transaction() == SumUpTransactionRef(id="t1", code=None)
    assert looked_up.status == "PARTIALLY_REFUNDED" and looked_up.refunded_amount == 0
