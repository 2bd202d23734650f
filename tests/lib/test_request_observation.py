"""Each request: its id (taken from X-Request-ID when safe, else made) echoed and carried into
every log line written while serving it, and one `request` event with its route, method,
status and duration."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from quart import Quart

HEX_ID = re.compile(r"[0-9a-f]{32}")


def json_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


async def test_a_safe_request_id_is_echoed(client: Any) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9:2_c"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.9:2_c"


@pytest.mark.parametrize(
    "given", ["has space", "x" * 65, '"quoted"', "semi;colon", "caf\u00e9", "<script>", ""]
)
async def test_an_unsafe_request_id_is_replaced_by_a_new_one(client: Any, given: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": given})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


async def test_each_request_without_an_id_gets_its_own(client: Any) -> None:
    first = (await client.get("/healthz")).headers["X-Request-ID"]
    second = (await client.get("/orders/")).headers["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second


async def test_errors_carry_the_request_id_too(client: Any) -> None:
    response = await client.get("/no/such/page/", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-404"


async def test_one_request_event_and_every_line_of_the_request_carry_its_id(
    json_app: Quart, capsys: pytest.CaptureFixture[str]
) -> None:
    client = json_app.test_client()
    capsys.readouterr()

    # A webhook for an order that does not exist: the service logs that it ignored it.
    response = await client.post(
        "/checkout/webhook/987654/",
        json={
            "event_type": "CHECKOUT_STATUS_CHANGED",
            "id": "64553e20-3f0e-49e4-8af3-fd0eca86ce91",
        },
        headers={"X-Request-ID": "trace-webhook-1"},
    )
    await client.get("/healthz", headers={"X-Request-ID": "trace-other"})

    assert response.status_code < 300
    lines = json_lines(capsys.readouterr().err)
    of_webhook = [line for line in lines if line.get("request_id") == "trace-webhook-1"]
    events = [line for line in of_webhook if line["event"] == "request"]
    assert len(events) == 1
    event = events[0]
    assert event["route"] == "/checkout/webhook/<order_ref>/"
    assert (event["method"], event["status"], event["logger"]) == ("POST", 204, "cart.request")
    assert event["duration_ms"] >= 0
    # The service's own line about the webhook carries the same id.
    assert any(line["event"] != "request" for line in of_webhook), of_webhook
    assert [line["request_id"] for line in lines if line.get("route") == "/healthz"] == [
        "trace-other"
    ]


async def test_the_duration_counts_from_the_requests_arrival_reading_the_session_included(
    json_app: Quart, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    interface = json_app.session_interface
    read_session = interface.open_session

    async def slow_session_store(app: Quart, request: Any) -> Any:
        await asyncio.sleep(0.2)
        return await read_session(app, request)

    monkeypatch.setattr(interface, "open_session", slow_session_store)
    capsys.readouterr()

    await json_app.test_client().get("/orders/", headers={"X-Request-ID": "slow-session"})

    [event] = [
        line
        for line in json_lines(capsys.readouterr().err)
        if line.get("request_id") == "slow-session" and line["event"] == "request"
    ]
    assert event["duration_ms"] >= 200
