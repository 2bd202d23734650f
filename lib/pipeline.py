"""Every request's one way through the service: one ASGI layer and one pair of request hooks.

Quart awaits each request hook in turn, and each ASGI wrapper adds a coroutine and a `send`
of its own to every message; the service had ten hooks and three wrappers around every
request, each looking at the request again. Here the order is written once, in `create_app`,
and each step is a plain function called in that order:

- the ASGI layer notes when the request arrived (before its session is read, which the
  duration includes) and, as the response starts, adds the security headers and the
  request's id (the first step puts it in the scope) and redacts a secret path for
  Hypercorn's access log, in one wrapper of `send`;
- the before hook calls the `before` steps in order, each given the request; a step refuses
  the request by raising (the one error mapping answers it), and the after hook still runs,
  so that a refused request is timed, logged and counted;
- the after hook calls the `after` steps in order, each given the request and the response.

The steps are given the request, looked up once: each `request.x` through Quart's context
proxy is a lookup of its own, and the steps made about twenty per request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope
from quart import Quart, Request, Response
from quart.globals import request_ctx

from lib.secret_paths import SECRET_SEGMENT, redacted_path

# Where the ASGI scope keeps the moment the request reached the app, and the request's id
# (echoed in the response's X-Request-ID).
STARTED_KEY = "cart.request_started"
REQUEST_ID_KEY = "cart.request_id"
REQUEST_ID_HEADER_NAME = b"x-request-id"

BeforeStep = Callable[[Request], Awaitable[None]]
AfterStep = Callable[[Request, Response], None]
Header = tuple[bytes, bytes]


def install_pipeline(
    app: Quart,
    *,
    before: Sequence[BeforeStep],
    after: Sequence[AfterStep],
    headers: Sequence[Header],
) -> None:
    """Run `before` before every view and `after` after it, in their order; add `headers` (a
    view's own value of one wins) to every HTTP response. Installed last, so that it is the
    outermost ASGI layer and the first and last of the request hooks."""
    before_steps, after_steps = tuple(before), tuple(after)

    async def run_before() -> None:
        request = request_ctx.request
        for step in before_steps:
            await step(request)

    async def run_after(response: Response) -> Response:
        request = request_ctx.request
        for step in after_steps:
            step(request, response)
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, run_before)
    app.after_request_funcs.setdefault(None, []).append(run_after)
    app.asgi_app = asgi_layer(app.asgi_app, tuple(headers))  # type: ignore[method-assign,assignment]


def asgi_layer(
    serve: Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]],
    extra: tuple[Header, ...],
) -> Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]:
    """`serve` timed from arrival, its responses given `extra` headers and the request's id
    and, when the path holds a secret, a redacted path in the scope (Hypercorn logs the
    scope's once it is sent)."""

    async def layer(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            await serve(scope, receive, send)
            return
        scope[STARTED_KEY] = time.perf_counter()  # type: ignore[literal-required]
        secret = SECRET_SEGMENT.search(scope["path"]) is not None

        async def send_with_headers(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start":
                sent = list(message["headers"])
                present = {name.lower() for name, _ in sent}
                sent.extend(header for header in extra if header[0] not in present)
                request_id: str | None = scope.get(REQUEST_ID_KEY)  # type: ignore[assignment]
                if request_id is not None:
                    if REQUEST_ID_HEADER_NAME in present:
                        sent = [h for h in sent if h[0].lower() != REQUEST_ID_HEADER_NAME]
                    sent.append((REQUEST_ID_HEADER_NAME, request_id.encode()))
                message["headers"] = sent
                if secret:
                    path = redacted_path(scope["path"])
                    scope["path"] = path
                    scope["raw_path"] = path.encode()
            await send(message)

        await serve(scope, receive, send_with_headers)

    return layer
