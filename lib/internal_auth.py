"""Bearer-token protection of the internal API that other coop apps call.

`install_internal_auth` checks the `Authorization` header of every request against the token it
is given (in constant time) and records the answer; `require_internal_token` (a view
decorator) and `require_internal_caller` (for a view that needs the token only sometimes) read
that answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from quart import Quart, g, request

from lib.csrf import csrf_exempt
from lib.errors import ServiceError

P = ParamSpec("P")
R = TypeVar("R")
TOKEN_ATTRIBUTE = "_internal_token_required"  # noqa: S105  (an attribute name)
CALLER_FLAG = "internal_caller"


def install_internal_auth(app: Quart, *, token: str) -> None:
    """Check each request's bearer token against `token`, before any view runs."""
    expected = token.encode()

    async def check_bearer_token() -> None:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        setattr(
            g,
            CALLER_FLAG,
            scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), expected),
        )

    app.before_request(check_bearer_token)


def require_internal_caller() -> None:
    """401 unless this request carries `Authorization: Bearer <INTERNAL_API_TOKEN>`."""
    if not g.get(CALLER_FLAG, False):
        raise ServiceError(401, "UNAUTHORIZED", "A valid internal API token is required.")


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
