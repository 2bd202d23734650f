"""Bearer-token protection of the internal API that other coop apps call."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from quart import current_app, request

from config.settings import Settings
from lib.csrf import csrf_exempt
from lib.errors import ServiceError

P = ParamSpec("P")
R = TypeVar("R")
TOKEN_ATTRIBUTE = "_internal_token_required"  # noqa: S105  (an attribute name)


def require_internal_token(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """401 unless `Authorization: Bearer <INTERNAL_API_TOKEN>`; exempts the view from CSRF."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        settings: Settings = current_app.extensions["settings"]
        assert settings.internal_api_token is not None
        expected = settings.internal_api_token.get_secret_value().encode()
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise ServiceError(401, "UNAUTHORIZED", "A valid internal API token is required.")
        return await view(*args, **kwargs)

    setattr(wrapper, TOKEN_ATTRIBUTE, True)
    return csrf_exempt(wrapper)


def requires_internal_token(view: Any) -> bool:
    """Whether a view is protected by the internal token (for the route policy test)."""
    return bool(getattr(view, TOKEN_ATTRIBUTE, False))
