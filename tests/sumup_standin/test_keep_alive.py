"""A kept-alive connection survives every answer the stand-in gives, faults included.

A client (httpx among them) sends a request's headers and its body in separate writes. An
answer given before the body has arrived leaves Hypercorn unable to reuse the connection, so
it closes it, without saying so in the answer: the client's next request on that connection
then fails with "Server disconnected". These tests send the body late, on purpose.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest

from tests.sumup_standin.conftest import API_KEY, MERCHANT_CODE, MakeCheckout
from tests.support.standin import StandinControl

BODY = json.dumps({"amount": 1}).encode()
BODY_DELAY_SECONDS = 0.2
READ_TIMEOUT_SECONDS = 5.0
CLOSED = -1


async def read_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer (with a Content-Length) and return its status."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_SECONDS)
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
    await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT_SECONDS)
    return int(status_line.split(" ")[1])


def request_head(path: str, *, host: str, api_key: str | None) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(BODY)}",
    ]
    if api_key is not None:
        lines.append(f"Authorization: Bearer {api_key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def two_requests_on_one_connection(
    base_url: str, path: str, *, api_key: str | None = API_KEY
) -> list[int]:
    """Send the request twice on one connection, each body after a pause; answer the statuses
    (CLOSED for an answer that never came because the connection was closed)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    statuses = []
    try:
        for _ in range(2):
            try:
                writer.write(request_head(path, host=parts.netloc, api_key=api_key))
                await writer.drain()
                await asyncio.sleep(BODY_DELAY_SECONDS)
                writer.write(BODY)
                await writer.drain()
                statuses.append(await read_answer(reader))
            except (ConnectionError, asyncio.IncompleteReadError):
                statuses.append(CLOSED)
    finally:
        writer.close()
    return statuses


async def paid_transaction(make_checkout: MakeCheckout, control: StandinControl) -> str:
    paid = await control.pay((await make_checkout(amount=20))["id"])
    txn_id: str = paid["transaction_id"]
    return txn_id


@pytest.mark.parametrize("endpoint", ["legacy", "current"])
async def test_a_refund_answered_5xx_keeps_the_connection(
    sumup_standin: str,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
    endpoint: str,
) -> None:
    txn_id = await paid_transaction(make_checkout, sumup_standin_control)
    path = (
        f"/v0.1/me/refund/{txn_id}"
        if endpoint == "legacy"
        else f"/v1.0/merchants/{MERCHANT_CODE}/payments/{txn_id}/refunds"
    )
    await sumup_standin_control.faults(fail_refund_5xx={"value": 503, "times": 1})

    statuses = await two_requests_on_one_connection(sumup_standin, path)

    assert statuses[0] == 503
    assert statuses[1] in (201, 204)
    assert [r["amount"] for r in await sumup_standin_control.refunds(txn_id)] == [1.0]


async def test_a_create_answered_5xx_keeps_the_connection(
    sumup_standin: str, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(fail_create_5xx=2)

    statuses = await two_requests_on_one_connection(sumup_standin, "/v0.1/checkouts")

    assert statuses == [500, 500]


async def test_a_refused_key_keeps_the_connection(sumup_standin: str) -> None:
    statuses = await two_requests_on_one_connection(sumup_standin, "/v0.1/checkouts", api_key=None)

    assert statuses == [401, 401]
