"""What a browser or another coop app would send: CSRF tokens, shared sessions, bearer tokens."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol

from bp.runtime import runtime
from config.settings import Settings
from lib.csrf import sign
from lib.session_ids import mint_session_id
from lib.sessions import session_key

TEST_HOST = "localhost"
# The token every page carries for HTMX: <body hx-headers='{"X-CSRF-Token": "…"}'>.
PAGE_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def settings_of(app: Quart) -> Settings:
    return runtime(app).settings


def secret_key_of(app: Quart) -> str:
    secret_key = settings_of(app).secret_key
    assert secret_key is not None
    return secret_key.get_secret_value()


def csrf_token(app: Quart, client: TestClientProtocol) -> str:
    """The form token for the client's session, handing it a signed session id first if it has
    none, as its first page view would."""
    name = settings_of(app).session_cookie_key
    sid = cookie_of(client, name)
    if sid is None:
        sid = mint_session_id(secret_key_of(app))
        client.set_cookie(TEST_HOST, name, sid)
    return sign(secret_key_of(app), sid)


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


def token_in(html: str) -> str:
    """The CSRF token a rendered page carries, as HTMX reads it."""
    found = PAGE_TOKEN.search(html)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


async def token_from_page(client: TestClientProtocol, path: str = "/") -> str:
    """Open a page as a browser does (keeping its cookies) and return its CSRF token."""
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return token_in(await response.get_data(as_text=True))


def cookie_of(client: TestClientProtocol, name: str) -> str | None:
    """The value of the client's cookie `name`, or None."""
    jar = getattr(client, "cookie_jar", None)
    for cookie in jar or ():
        if cookie.name == name:
            return str(cookie.value)
    return None
