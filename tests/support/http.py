"""What a browser or another coop app would send: CSRF tokens, shared sessions, bearer tokens."""

from __future__ import annotations

import json
import secrets
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol

from bp.runtime import runtime
from config.settings import Settings
from lib.csrf import COOKIE_NAME, sign
from lib.sessions import session_key

TEST_HOST = "localhost"


def settings_of(app: Quart) -> Settings:
    return runtime(app).settings


def csrf_token(app: Quart, client: TestClientProtocol) -> str:
    """Give the client a CSRF cookie, as a first page view would, and return the form token."""
    nonce = "test-" + secrets.token_urlsafe(16)
    client.set_cookie(TEST_HOST, COOKIE_NAME, nonce)
    secret_key = settings_of(app).secret_key
    assert secret_key is not None
    return sign(secret_key.get_secret_value(), nonce)


def csrf_headers(app: Quart, client: TestClientProtocol) -> dict[str, str]:
    """Headers of an HTMX request with its CSRF token."""
    return {"X-CSRF-Token": csrf_token(app, client)}


async def write_shared_session(app: Quart, data: dict[str, Any]) -> str:
    """Write a session the way the account app does; return its id (the cookie value)."""
    sid = secrets.token_urlsafe(32)
    await runtime(app).redis.auth.set(session_key(sid), json.dumps(data), ex=3600)
    return sid


async def sign_in(app: Quart, client: TestClientProtocol, user_id: int, **extra: Any) -> str:
    """Sign the client in as `user_id` through the shared session store."""
    sid = await write_shared_session(app, {"user_id": user_id, **extra})
    client.set_cookie(TEST_HOST, settings_of(app).session_cookie_name, sid)
    return sid


async def read_shared_session(app: Quart, sid: str) -> dict[str, Any] | None:
    raw = await runtime(app).redis.auth.get(session_key(sid))
    return json.loads(raw) if raw else None


def internal_headers(app: Quart) -> dict[str, str]:
    """The bearer token other coop apps send to the internal API."""
    token = settings_of(app).internal_api_token
    assert token is not None
    return {"Authorization": f"Bearer {token.get_secret_value()}"}
