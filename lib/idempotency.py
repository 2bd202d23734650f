"""Idempotency keys on mutating internal POSTs, as Stripe's API has them.

A caller that may retry (a lost response, a timeout) sends `Idempotency-Key: <1 to 255
printable ASCII characters>`. The first request with a key claims it in the cart's own Redis
index and runs; its answer, when it succeeds, is kept for 24 hours, and a repeat with the same
key and the same request (method, path and body) gets that answer again, with
`Idempotent-Replayed: true`, without running anything. The same key with another request is a
422. Keys are per route: the same key on adopt and on refund names two requests.

While the first request runs, a concurrent one with its key is refused at once with 409
("a request with this key is in progress") rather than made to wait: the work runs once, no
worker is held, and the caller's retry after the first finished gets the kept answer. A
request that fails keeps nothing and gives the key back, so that its retry runs again; both
operations make that safe (adoption is idempotent, a refund is never made twice). A claim
whose request never finished (a worker lost mid-request) lapses after RUNNING_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec

from quart import Quart, Response, current_app, request
from redis.asyncio import Redis

from lib.error_codes import ErrorCode
from lib.errors import ServiceError
from lib.json_body import loads_or_none

P = ParamSpec("P")
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
EXTENSION = "idempotency_redis"
# Marks a view that takes the header (for its OpenAPI document).
IDEMPOTENT_ATTRIBUTE = "_idempotent"
KEY_PREFIX = "idempotency:"
MAX_KEY_LENGTH = 255
# A kept answer is replayed for this long.
KEPT_SECONDS = 24 * 3600
# Longer than any request may run (a refund waits for SumUp twice, 10 s each at most).
RUNNING_SECONDS = 120
# A caller refused while the key's first request runs is told to come back this much later.
IN_PROGRESS_RETRY_SECONDS = 1
# Deletes the claim only while it is still this request's (not one that lapsed and was taken).
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class IdempotencyKeyInvalid(ServiceError):
    """The header is empty, too long, or not printable ASCII."""

    def __init__(self) -> None:
        super().__init__(
            400, ErrorCode.INVALID_IDEMPOTENCY_KEY, header=HEADER, max_length=MAX_KEY_LENGTH
        )


class IdempotencyKeyReused(ServiceError):
    """The key names another request (another body or path) of the same route."""

    def __init__(self) -> None:
        super().__init__(422, ErrorCode.IDEMPOTENCY_KEY_REUSED, header=HEADER)


class IdempotencyKeyInProgress(ServiceError):
    """The key's first request is still running."""

    def __init__(self) -> None:
        super().__init__(
            409, ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS, retry_after=IN_PROGRESS_RETRY_SECONDS
        )


def install_idempotency(app: Quart, *, redis: Callable[[], Redis]) -> None:
    """Keep idempotency keys in the Redis `redis()` answers (the cart's own index)."""
    app.extensions[EXTENSION] = redis


def valid_key(value: str) -> bool:
    """1 to 255 printable ASCII characters."""
    return 0 < len(value) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in value)


def fingerprint(method: str, path: str, body: str | bytes) -> str:
    """What makes two requests the same: method, path, and the body (as JSON when it is JSON,
    so that key order and spacing do not matter)."""
    raw = body.encode() if isinstance(body, str) else body
    value = loads_or_none(raw)
    try:
        canonical = raw if value is None else json.dumps(value, sort_keys=True).encode()
    except RecursionError:
        canonical = raw
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def idempotent(
    view: Callable[P, Awaitable[Response]],
) -> Callable[P, Awaitable[Response]]:
    """Run the view once per `Idempotency-Key` (when the caller sends one); replay its answer."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return await view(*args, **kwargs)
        if not valid_key(key):
            raise IdempotencyKeyInvalid()
        redis: Redis = current_app.extensions[EXTENSION]()
        name = f"{KEY_PREFIX}{request.endpoint}:{key}"
        sent = fingerprint(request.method, request.path, await request.get_data())
        claim = json.dumps({"state": "running", "fingerprint": sent, "claim": secrets.token_hex(8)})
        # Twice: a first request that failed gives its key back between our two steps.
        for _ in range(2):
            if await redis.set(name, claim, nx=True, ex=RUNNING_SECONDS):
                return await _run_and_keep(redis, name, claim, view(*args, **kwargs))
            raw = await redis.get(name)
            if raw is not None:
                return _kept_answer(json.loads(raw), sent)
        raise IdempotencyKeyInProgress()

    setattr(wrapper, IDEMPOTENT_ATTRIBUTE, True)
    return wrapper


def is_idempotent(view: Callable[..., Any]) -> bool:
    """Whether the view takes an Idempotency-Key."""
    return bool(getattr(view, IDEMPOTENT_ATTRIBUTE, False))


async def _run_and_keep(
    redis: Redis, name: str, claim: str, running: Awaitable[Response]
) -> Response:
    """Run the claimed request; keep its answer if it succeeded, else give the key back."""
    try:
        response = await running
    except BaseException:
        await _release(redis, name, claim)
        raise
    if not 200 <= response.status_code < 300:
        await _release(redis, name, claim)
        return response
    kept = {
        "state": "done",
        "fingerprint": json.loads(claim)["fingerprint"],
        "status": response.status_code,
        "content_type": response.content_type,
        "body": await response.get_data(as_text=True),
    }
    await redis.set(name, json.dumps(kept), ex=KEPT_SECONDS)
    return response


async def _release(redis: Redis, name: str, claim: str) -> None:
    await redis.eval(RELEASE_SCRIPT, 1, name, claim)


def _kept_answer(record: dict[str, Any], sent: str) -> Response:
    """The kept answer of the key's first request, or why there is none to give."""
    if record.get("fingerprint") != sent:
        raise IdempotencyKeyReused()
    if record.get("state") != "done":
        raise IdempotencyKeyInProgress()
    response = Response(
        record["body"], status=int(record["status"]), content_type=record["content_type"]
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response
