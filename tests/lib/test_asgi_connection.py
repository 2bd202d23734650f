"""Each request handled in the task it arrived in (lib/asgi_connection.py): the answer is
Quart's own connection's, a disconnect still cancels the handling, a cancellation from
outside still goes through, and no task is left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypercorn.typing import ASGIReceiveEvent, ASGISendEvent, HTTPScope
from quart import Quart, Response, request
from quart.asgi import ASGIHTTPConnection

from lib.asgi_connection import LeanHTTPConnection


def make_app(connection: type[ASGIHTTPConnection]) -> tuple[Quart, dict[str, Any]]:
    app = Quart(__name__)
    app.asgi_http_class = connection
    seen: dict[str, Any] = {"started": asyncio.Event(), "release": asyncio.Event()}

    @app.get("/hello")
    async def hello() -> tuple[str, int, dict[str, str]]:
        return "hello, " + request.args.get("name", "you"), 201, {"X-Made-By": "view"}

    @app.post("/form")
    async def form() -> str:
        sent = await request.form
        return ",".join(f"{key}={value}" for key, value in sorted(sent.items()))

    @app.get("/stream")
    async def stream() -> Any:
        async def pieces() -> AsyncIterator[bytes]:
            for piece in (b"one ", b"two ", b"three"):
                yield piece

        return pieces(), 200, {"Content-Type": "text/plain"}

    @app.get("/long")
    async def long() -> Response:
        response = Response("0123456789" * 10, content_type="text/plain")
        return await response.make_conditional(request, accept_ranges=True, complete_length=100)

    @app.get("/slow")
    async def slow() -> str:
        seen["started"].set()
        try:
            await seen["release"].wait()
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise
        return "done"

    return app, seen


def scope(
    method: str, path: str, query: bytes = b"", headers: list[Any] | None = None
) -> HTTPScope:
    return {  # type: ignore[typeddict-item]
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers or [(b"host", b"cart.test")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }


class Wire:
    """The server's side of one request: what the app will receive, and what it sent."""

    def __init__(self, *messages: ASGIReceiveEvent) -> None:
        self.incoming: asyncio.Queue[ASGIReceiveEvent] = asyncio.Queue()
        for message in messages:
            self.incoming.put_nowait(message)
        self.sent: list[ASGISendEvent] = []

    async def receive(self) -> ASGIReceiveEvent:
        return await self.incoming.get()

    async def send(self, message: ASGISendEvent) -> None:
        self.sent.append(message)

    def answer(self) -> tuple[int, dict[bytes, bytes], bytes]:
        start = self.sent[0]
        assert start["type"] == "http.response.start"
        body = b"".join(m.get("body", b"") for m in self.sent[1:])  # type: ignore[misc]
        return start["status"], dict(start["headers"]), body


def serve(app: Quart, request_scope: HTTPScope, wire: Wire) -> Any:
    """The app's handling of one request on `wire`, as the server calls it."""
    return app(request_scope, wire.receive, wire.send)


async def answer_of(
    connection: type[ASGIHTTPConnection], request_scope: HTTPScope, *messages: ASGIReceiveEvent
) -> tuple[int, dict[bytes, bytes], bytes]:
    app, _ = make_app(connection)
    wire = Wire(*messages)
    await serve(app, request_scope, wire)
    return wire.answer()


EMPTY: ASGIReceiveEvent = {"type": "http.request", "body": b"", "more_body": False}


async def test_a_request_is_answered_as_quarts_own_connection_answers_it() -> None:
    asked = scope("GET", "/hello", b"name=Ada")
    ours = await answer_of(LeanHTTPConnection, asked, EMPTY)
    quarts = await answer_of(ASGIHTTPConnection, asked, EMPTY)
    assert ours == quarts
    assert ours[0] == 201 and ours[2] == b"hello, Ada" and ours[1][b"x-made-by"] == b"view"
    for path, query, headers in (
        ("/stream", b"", None),
        ("/long", b"", None),
        ("/long", b"", [(b"host", b"cart.test"), (b"range", b"bytes=10-24")]),
    ):
        asked = scope("GET", path, query, headers)
        assert await answer_of(LeanHTTPConnection, asked, EMPTY) == await answer_of(
            ASGIHTTPConnection, asked, EMPTY
        )
    partial = await answer_of(
        LeanHTTPConnection,
        scope("GET", "/long", headers=[(b"host", b"cart.test"), (b"range", b"bytes=10-24")]),
        EMPTY,
    )
    assert partial[0] == 206 and partial[2] == b"012345678901234"
    nowhere = scope("GET", "/nowhere")
    missing = await answer_of(LeanHTTPConnection, nowhere, EMPTY)
    assert missing == await answer_of(ASGIHTTPConnection, nowhere, EMPTY)
    assert missing[0] == 404


async def test_a_body_in_memory_is_sent_in_one_message_after_the_start() -> None:
    app, _ = make_app(LeanHTTPConnection)
    wire = Wire(EMPTY)
    await serve(app, scope("GET", "/hello"), wire)
    assert [message["type"] for message in wire.sent] == [
        "http.response.start",
        "http.response.body",
    ]
    assert wire.sent[1] == {"type": "http.response.body", "body": b"hello, you", "more_body": False}


async def test_a_body_arriving_in_pieces_after_the_view_began_is_read_whole() -> None:
    app, _ = make_app(LeanHTTPConnection)
    headers = [
        (b"host", b"cart.test"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", b"23"),
    ]
    wire = Wire()
    serving = asyncio.ensure_future(serve(app, scope("POST", "/form", headers=headers), wire))
    for piece, more in ((b"quantity=", True), (b"3&view=", True), (b"bakery", False)):
        await asyncio.sleep(0.01)
        wire.incoming.put_nowait({"type": "http.request", "body": piece, "more_body": more})
    await asyncio.wait_for(serving, 5)
    assert wire.answer()[0] == 200 and wire.answer()[2] == b"quantity=3,view=bakery"


async def slow_request_begun() -> tuple[dict[str, Any], Wire, set[Any], asyncio.Future[None]]:
    """A GET of /slow whose view is waiting; what it saw, its wire, the tasks there were
    before it, and the task serving it."""
    app, seen = make_app(LeanHTTPConnection)
    wire = Wire(EMPTY)
    before = asyncio.all_tasks()
    serving = asyncio.ensure_future(serve(app, scope("GET", "/slow"), wire))
    await asyncio.wait_for(seen["started"].wait(), 5)
    return seen, wire, before, serving


async def test_a_disconnect_cancels_the_handling_and_ends_the_request_quietly() -> None:
    seen, wire, before, serving = await slow_request_begun()
    wire.incoming.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(serving, 5)

    assert seen.get("cancelled") is True
    assert wire.sent == []
    assert not serving.cancelled() and serving.exception() is None
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


async def test_the_task_serving_it_is_not_left_cancelled_by_a_disconnect() -> None:
    app, seen = make_app(LeanHTTPConnection)
    wire = Wire(EMPTY)
    after: dict[str, Any] = {}

    async def serve_then_carry_on() -> None:
        await serve(app, scope("GET", "/slow"), wire)
        task = asyncio.current_task()
        assert task is not None
        after["cancelling"] = task.cancelling()
        await asyncio.sleep(0.01)  # a pending cancellation would land here
        after["carried_on"] = True

    serving = asyncio.ensure_future(serve_then_carry_on())
    await asyncio.wait_for(seen["started"].wait(), 5)
    wire.incoming.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(serving, 5)
    assert after == {"cancelling": 0, "carried_on": True}


async def test_a_cancellation_from_outside_goes_through() -> None:
    seen, _, before, serving = await slow_request_begun()
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert seen.get("cancelled") is True
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


async def test_the_finished_request_leaves_no_task_behind() -> None:
    app, _ = make_app(LeanHTTPConnection)
    wire = Wire(EMPTY)
    before = asyncio.all_tasks()
    await serve(app, scope("GET", "/hello"), wire)
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
    assert wire.answer()[2] == b"hello, you"


async def test_a_response_the_client_does_not_take_is_dropped_after_its_time() -> None:
    app, _ = make_app(LeanHTTPConnection)
    app.config["RESPONSE_TIMEOUT"] = 0.2
    stuck = asyncio.Event()

    async def send_never(message: ASGISendEvent) -> None:
        await stuck.wait()

    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(app(scope("GET", "/hello"), Wire(EMPTY).receive, send_never), 5)
    assert 0.15 < loop.time() - began < 2


async def test_an_error_reading_the_request_is_raised_once_the_handling_stopped() -> None:
    app, seen = make_app(LeanHTTPConnection)

    async def broken_receive() -> ASGIReceiveEvent:
        await asyncio.wait_for(seen["started"].wait(), 5)
        raise ConnectionResetError("the wire broke")

    with pytest.raises(ConnectionResetError, match="the wire broke"):
        await asyncio.wait_for(app(scope("GET", "/slow"), broken_receive, Wire().send), 5)
    assert seen.get("cancelled") is True


async def test_an_error_no_handler_takes_is_raised_and_leaves_no_task_behind() -> None:
    app, _ = make_app(LeanHTTPConnection)
    # As in production: no traceback page, and here the error is not answered by a handler.
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.get("/broken")
    async def broken() -> str:
        raise RuntimeError("the view broke")

    before = asyncio.all_tasks()
    with pytest.raises(RuntimeError, match="the view broke"):
        await serve(app, scope("GET", "/broken"), Wire(EMPTY))
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


def test_the_service_handles_its_requests_this_way(app: Quart) -> None:
    assert app.asgi_http_class is LeanHTTPConnection
