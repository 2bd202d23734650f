"""Each HTTP request's way into Quart, without the tasks Quart's own connection spawns for it.

Quart's `ASGIHTTPConnection` runs a request as two new tasks (one reading the body and the
client's disconnect, one handling the request), waits for the first of them with
`asyncio.wait`, cancels the other and waits for it to end; the response is then sent through
`asyncio.wait_for`, a third task on Python 3.11. In process on uvloop that is about 35 µs of
every request's time, a quarter of what a bare Quart request costs there.

`LeanHTTPConnection` handles the request in the task Hypercorn already runs it in, and keeps
one task, the body's reader. What the framework promises is kept:

- a client that disconnects while its request is handled has that handling cancelled, as
  Quart cancels its handler task, and the connection then ends quietly;
- an error the body's reader meets is raised once the handling has stopped;
- the response is sent within the response's (or `RESPONSE_TIMEOUT`'s) time, else dropped,
  as `asyncio.wait_for` did; `asyncio.timeout` needs no task of its own.

A response whose body is in memory (every page, fragment and JSON answer) is sent as its start
and one last body message, where Quart sends the body and then an empty message to end it:
each message is another write through Hypercorn's HTTP/1.1 state machine and the socket. A
file or a stream is sent as Quart sends it.

A cancellation that comes from anywhere else (Hypercorn's, at the end of a graceful stop) is
let through, as it would have reached Quart's connection.
"""

from __future__ import annotations

import asyncio
from typing import cast

from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
)
from quart import Request, Response
from quart.asgi import ASGIHTTPConnection
from quart.debug import traceback_response
from quart.typing import ResponseTypes
from quart.utils import encode_headers
from quart.wrappers.response import DataBody


class LeanHTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, handling the request in the task it arrived in."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        request = self._create_request_from_scope(send)
        handler = asyncio.current_task()
        assert handler is not None, "an ASGI app is always called in a task"
        receiver = asyncio.ensure_future(self.handle_messages(request, receive))
        handling, stopped = True, False

        def stop_handling(task: asyncio.Future[None]) -> None:
            # The reader ends at the client's disconnect (or with an error): the handling is
            # cancelled where it waits, as Quart cancels its handler task. The callback runs
            # only while the handler is suspended inside `handle_request`, so the cancellation
            # is delivered there, never after it.
            nonlocal stopped
            if handling and not task.cancelled():
                stopped = True
                handler.cancel()

        receiver.add_done_callback(stop_handling)
        try:
            await self.handle_request(request, send)
        except asyncio.CancelledError:
            # Swallowed only when it is the reader's, and nobody else asked for one too.
            if not stopped or handler.uncancel() > 0:
                raise
        finally:
            # However the handling ended (an answer, an error, a cancellation), the reader
            # goes with it, as Quart cancels the task still pending.
            handling = False
            if not receiver.done():
                receiver.cancel()
        done = receiver.done() and not receiver.cancelled()
        if done and (error := receiver.exception()) is not None:
            raise error

    async def handle_request(self, request: Request, send: ASGISendCallable) -> None:
        """As Quart's, with the response's time kept by `asyncio.timeout` (no task)."""
        try:
            response = await self.app.handle_request(request)
        except Exception as error:
            response = await self._error_response(error)
        if isinstance(response, Response) and response.timeout != Ellipsis:
            timeout = cast(float | None, response.timeout)
        else:
            timeout = self.app.config["RESPONSE_TIMEOUT"]
        try:
            async with asyncio.timeout(timeout):
                await self._send_response(send, response)
        except TimeoutError:
            pass

    async def _send_response(self, send: ASGISendCallable, response: ResponseTypes) -> None:
        body = response.response
        if type(body) is not DataBody:
            await super()._send_response(send, response)
            return
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": encode_headers(response.headers),
        }
        await send(start)
        # The range a conditional request asked for, as Quart's body gives it.
        last: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body.data[body.begin : body.end],
            "more_body": False,
        }
        await send(last)

    async def _error_response(self, error: Exception) -> Response:
        """What Quart's connection answers an error no handler took: its traceback while
        debugging or testing, else the error raised to the server."""
        if self.app.debug or self.app.testing:
            return await traceback_response(error)
        raise error
