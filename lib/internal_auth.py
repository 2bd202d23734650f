"""Bearer-token protection of the internal API that other coop apps call.

`bearer_token_check` (a step of the request pipeline) checks the `Authorization` header of
every request against the token it is given (in constant time) and records the answer;
`require_internal_token` (a view decorator) and `require_internal_caller` (for a view that
needs the token only sometimes) read that answer. An empty expected token matches nothing: a
blank setting never opens the door.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from quart import Quart, Request, g, request
from quart.globals import app_ctx

from lib.csrf import csrf_exempt
from lib.error_codes import ErrorCode
from lib.errors import ServiceError

P = ParamSpec("P")
R = TypeVar("R")
TOKEN_ATTRIBUTE = "_internal_token_required"  # noqa: S105  (an attribute name)
CALLER_FLAG = "internal_caller"
WRONG_TOKEN_FLAG = "internal_token_wrong"  # noqa: S105  (an attribute name)


def bearer_token_check(token: str) -> Callable[[Request], Awaitable[None]]:
    """A step of the request pipeline: check the request's bearer token against `token` (in
    constant time) and record the answer, before any view runs."""
    expected = token.strip().encode()

    async def check_bearer_token(request: Request) -> None:
        header = request.headers.get("Authorization")
        flags = app_ctx.g
        if header is None:
            # Most requests (a shopper's) send none: nothing to compare.
            setattr(flags, CALLER_FLAG, False)
            setattr(flags, WRONG_TOKEN_FLAG, False)
            return
        valid = is_bearer_token(header, expected)
        setattr(flags, CALLER_FLAG, valid)
        # A bearer token sent and refused is a guess: those are rate-limited per client
        # (lib/rate_limits.py). Another scheme (Basic auth in front of a staging site) is not.
        scheme = header.partition(" ")[0]
        setattr(flags, WRONG_TOKEN_FLAG, scheme.lower() == "bearer" and not valid)

    return check_bearer_token


def is_bearer_token(header: str, expected: bytes) -> bool:
    """Whether an Authorization header's value sends `expected` as a bearer token (compared
    in constant time); an empty `expected` matches nothing."""
    scheme, _, sent = header.partition(" ")
    presented = sent.strip().encode("utf-8", "surrogateescape")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and bool(presented)
        and hmac.compare_digest(presented, expected)
    )


def install_internal_auth(app: Quart, *, token: str) -> None:
    """The check as a request hook of its own, for an app without the service's pipeline."""
    check = bearer_token_check(token)

    async def check_request() -> None:
        await check(request)

    app.before_request(check_request)


def is_internal_caller() -> bool:
    """Whether this request carries the right internal token."""
    return bool(g.get(CALLER_FLAG, False))


def sent_a_wrong_token() -> bool:
    """Whether this request carried a bearer token that is not the internal token."""
    return bool(g.get(WRONG_TOKEN_FLAG, False))


def require_internal_caller() -> None:
    """401 unless this request carries `Authorization: Bearer <INTERNAL_API_TOKEN>`."""
    if not is_internal_caller():
        raise ServiceError(401, ErrorCode.UNAUTHORIZED)


def require_internal_token(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """401 unless the internal token is sent; exempts the view from CSRF."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        require_internal_caller()
        return await view(*args, **kwargs)

    setattr(wrapper, TOKEN_ATTRIBUTE, True)
    return csrf_exempt(wrapper)


def requires_internal_token(view: Any) -> bool:
    """Whether a view is protected by the internal token (for the route policy test)."""
    return bool(getattr(view, TOKEN_ATTRIBUTE, False))
