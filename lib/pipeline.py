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

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    HTTPScope,
    Scope,
)
from quart import Quart, Request, Response
from quart.globals import request_ctx

from lib.scope_headers import header_value
from lib.secret_paths import SECRET_SEGMENT, redacted_path

# Where the ASGI scope keeps the moment the request reached the app, and the request's id
# (echoed in the response's X-Request-ID).
STARTED_KEY = "cart.request_started"
REQUEST_ID_KEY = "cart.request_id"
REQUEST_ID_HEADER_NAME = b"x-request-id"

# A request a lane began and left to the framework, with the error its statement raised: the
# framework answers that error (raise_lane_error) rather than running the statement again.
LANE_ERROR_KEY = "cart.lane_error"
# Where the app keeps its Lanes.
LANES_EXTENSION = "pipeline_lanes"

BeforeStep = Callable[[Request], Awaitable[None]]
AfterStep = Callable[[Request, Response], None]
Header = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class LaneAnswer:
    """A lane's whole response: its status, its own headers and its body; and the route (the
    rule the framework would have matched) it is logged and counted under, when it is not the
    path itself."""

    status: int
    headers: tuple[Header, ...]
    body: bytes
    route: str | None = None


# A route answered before the framework (see `install_pipeline`): given the request's scope,
# its whole answer, or None to leave the request to the framework.
Lane = Callable[[HTTPScope], Awaitable[LaneAnswer | None]]
# The same for a POST, given its body too.
PostLane = Callable[[HTTPScope, bytes], Awaitable[LaneAnswer | None]]
# A POST is offered to a lane only with a body of at most this many bytes (a form of a few
# fields); any other is the framework's.
LANE_BODY_LIMIT = 2048
CONTENT_LENGTH = b"content-length"


class LaneObserver(Protocol):
    """What observes a request a lane answers, as the pipeline's first and last steps do."""

    def begin(self, scope: HTTPScope, sent_id: str | None) -> None: ...

    def end(self, scope: HTTPScope, route: str, path: str, status: int, method: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Lanes:
    """The routes answered before the framework, by path (GET only), and their observer; then
    each of `shaped`, given a path no route names, answers its lane for it, if it has one
    (paths of a route with parameters). Both are read at each request: emptied, every request
    goes through the framework."""

    routes: dict[str, Lane]
    observer: LaneObserver
    shaped: list[Callable[[str], Lane | None]] = field(default_factory=list)
    posts: list[Callable[[str], PostLane | None]] = field(default_factory=list)

    def lane_for(self, path: str) -> Lane | None:
        """The lane that may answer a GET of `path`."""
        lane = self.routes.get(path)
        if lane is not None:
            return lane
        for shape in self.shaped:
            lane = shape(path)
            if lane is not None:
                return lane
        return None

    def post_lane_for(self, path: str) -> PostLane | None:
        """The lane that may answer a POST of `path`."""
        for shape in self.posts:
            lane = shape(path)
            if lane is not None:
                return lane
        return None


def install_pipeline(
    app: Quart,
    *,
    before: Sequence[BeforeStep],
    after: Sequence[AfterStep],
    headers: Sequence[Header],
    lanes: Lanes | None = None,
) -> None:
    """Run `before` before every view and `after` after it, in their order; add `headers` (a
    view's own value of one wins) to every HTTP response. Installed last, so that it is the
    outermost ASGI layer and the first and last of the request hooks.

    A GET of a path in `lanes` is first offered to its lane, which answers the commonest
    shape of a few hot requests without the framework's request machinery (contexts,
    routing, hooks, response object), observed (logged and counted) as the steps would, with
    the same headers. Whatever the lane leaves (None) goes through the framework as any
    request; an error its statement raised is answered there, not met twice."""
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
    body_timeout = float(app.config["BODY_TIMEOUT"])
    app.asgi_app = asgi_layer(app.asgi_app, tuple(headers), lanes, body_timeout)  # type: ignore[method-assign,assignment]
    app.extensions[LANES_EXTENSION] = lanes


async def raise_lane_error(request: Request) -> None:
    """A step of the pipeline: the error a lane met, answered as the view's own would be."""
    error = request.scope.get(LANE_ERROR_KEY)
    if isinstance(error, Exception):
        raise error


def asgi_layer(
    serve: Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]],
    extra: tuple[Header, ...],
    lanes: Lanes | None = None,
    body_timeout: float = 15.0,
) -> Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]:
    """`serve` timed from arrival, its responses given `extra` headers and the request's id
    and, when the path holds a secret, a redacted path in the scope (Hypercorn logs the
    scope's once it is sent); a GET or a small POST of a lane's path offered to the lane first
    (a POST's body read within `body_timeout` seconds, and given again to the framework if
    the lane leaves the request)."""

    async def layer(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http":
            await serve(scope, receive, send)
            return
        scope[STARTED_KEY] = time.perf_counter()  # type: ignore[literal-required]
        if lanes is not None:
            method = scope["method"]
            if method == "GET" and await _in_lane(lanes, scope, send, extra):
                return
            post = lanes.post_lane_for(scope["path"]) if method == "POST" else None
            if post is not None and _small_body(scope):
                buffered = BufferedReceive(receive)
                body = await buffered.body(LANE_BODY_LIMIT, body_timeout)
                if body is not None and await _in_lane(
                    lanes, scope, send, extra, _given(post, body)
                ):
                    return
                receive = buffered.replay
        secret = SECRET_SEGMENT.search(scope["path"]) is not None

        async def send_with_headers(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start":
                request_id: str | None = scope.get(REQUEST_ID_KEY)  # type: ignore[assignment]
                message["headers"] = _with_extra(message["headers"], extra, request_id)
                if secret:
                    path = redacted_path(scope["path"])
                    scope["path"] = path
                    scope["raw_path"] = path.encode()
            await send(message)

        await serve(scope, receive, send_with_headers)

    return layer


def _with_extra(
    headers: Iterable[Header], extra: tuple[Header, ...], request_id: str | None
) -> list[Header]:
    """A response's headers, then each of `extra` it lacks, then the request's id."""
    sent = list(headers)
    present = {name.lower() for name, _ in sent}
    sent.extend(header for header in extra if header[0] not in present)
    if request_id is not None:
        if REQUEST_ID_HEADER_NAME in present:
            sent = [h for h in sent if h[0].lower() != REQUEST_ID_HEADER_NAME]
        sent.append((REQUEST_ID_HEADER_NAME, request_id.encode()))
    return sent


class BufferedReceive:
    """A request's messages, read ahead for a lane, and given again, in order, to the
    framework when the lane leaves the request."""

    def __init__(self, receive: ASGIReceiveCallable) -> None:
        self._receive = receive
        self._taken: list[ASGIReceiveEvent] = []

    async def body(self, limit: int, seconds: float) -> bytes | None:
        """The whole body, when it is at most `limit` bytes and arrives within `seconds`."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(seconds):
                while True:
                    message = await self._receive()
                    self._taken.append(message)
                    if message["type"] != "http.request":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return None
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            return None

    async def replay(self) -> ASGIReceiveEvent:
        """The messages read ahead, then the request's own."""
        if self._taken:
            return self._taken.pop(0)
        return await self._receive()


def _given(post: PostLane, body: bytes) -> Lane:
    """The POST lane `post`, given the request's body."""

    async def lane(scope: HTTPScope) -> LaneAnswer | None:
        return await post(scope, body)

    return lane


def _small_body(scope: HTTPScope) -> bool:
    """Whether the request's body may be at most LANE_BODY_LIMIT bytes: it says so in its
    Content-Length, or says nothing (a longer one is found out while it is read)."""
    declared = header_value(scope, CONTENT_LENGTH)
    return declared is None or (declared.isdigit() and int(declared) <= LANE_BODY_LIMIT)


async def _in_lane(
    lanes: Lanes,
    scope: HTTPScope,
    send: ASGISendCallable,
    extra: tuple[Header, ...],
    lane: Lane | None = None,
) -> bool:
    """Whether the request's lane (the GET lane of its path, unless given) answered it (and
    it was observed); False leaves it to the framework, with the lane's error, if it met one,
    in the scope."""
    path = scope["path"]
    lane = lane or lanes.lane_for(path)
    if lane is None:
        return False
    lanes.observer.begin(scope, header_value(scope, REQUEST_ID_HEADER_NAME))
    try:
        answer = await lane(scope)
    except Exception as error:  # the framework answers it, as it would the view's
        scope[LANE_ERROR_KEY] = error  # type: ignore[literal-required]
        return False
    if answer is None:
        return False
    request_id: str = scope[REQUEST_ID_KEY]  # type: ignore[literal-required]
    headers = _with_extra(answer.headers, extra, request_id)
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})
    lanes.observer.end(scope, answer.route or path, path, answer.status, scope["method"])
    return True
