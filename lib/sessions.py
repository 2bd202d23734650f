"""Server-side sessions in the shared auth Redis index: a sign-in by the account app is seen here.

The contract with the other coop apps: the cookie (name and domain from config) holds an opaque
id; Redis key ``session:<id>`` in index 15 holds a JSON object. The account app writes
``user_id`` (int) and may write ``user_name``; the cart writes ``cart_sid`` (the anonymous cart's
id) and nothing else.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from quart import Quart, Response
from quart.sessions import SessionInterface, SessionMixin
from quart.wrappers import BaseRequestWebsocket
from redis.asyncio import Redis
from redis.exceptions import RedisError
from werkzeug.datastructures import CallbackDict

from config.settings import Settings

KEY_PREFIX = "session:"
log = logging.getLogger(__name__)


def session_key(sid: str) -> str:
    """The Redis key of a session id."""
    return KEY_PREFIX + sid


class RedisSession(CallbackDict[str, Any], SessionMixin):
    """A dict that remembers whether it changed, so unchanged sessions are never written back."""

    def __init__(
        self, initial: dict[str, Any] | None = None, *, sid: str | None, unavailable: bool = False
    ) -> None:
        def on_update(session: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.modified = False
        # True when Redis could not be read: the request must not act as if signed out.
        self.unavailable = unavailable


class RedisSessionInterface(SessionInterface):
    """Reads and writes sessions in the shared auth index.

    `store` answers the shared index's client; it is called per request because the client is
    opened when the app starts serving, after the interface is installed.
    """

    def __init__(self, settings: Settings, *, store: Callable[[], Redis]) -> None:
        self.settings = settings
        self.store = store

    def get_cookie_name(self, app: Quart) -> str:
        return self.settings.session_cookie_name

    def get_cookie_domain(self, app: Quart) -> str | None:
        return self.settings.session_cookie_domain or None

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> RedisSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return RedisSession(sid=None)
        try:
            raw = await self.store().get(session_key(sid))
        except RedisError:
            log.exception("session store unreachable")
            return RedisSession(sid=sid, unavailable=True)
        data: dict[str, Any] = {}
        if raw:
            try:
                loaded = json.loads(raw)
                data = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                log.warning("session %s… is not JSON; starting afresh", sid[:6])
        return RedisSession(data, sid=sid)

    async def save_session(  # type: ignore[override]
        self, app: Quart, session: SessionMixin, response: Response
    ) -> None:
        if not isinstance(session, RedisSession) or not session.modified or session.unavailable:
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        store = self.store()
        if not session:
            if session.sid:
                await store.delete(session_key(session.sid))
                response.delete_cookie(name, domain=domain, path="/")
            return
        sid = session.sid or secrets.token_urlsafe(32)
        ttl = self.settings.session_ttl_seconds
        await store.set(session_key(sid), json.dumps(dict(session)), ex=ttl)
        response.set_cookie(
            name,
            sid,
            max_age=ttl,
            domain=domain,
            path="/",
            httponly=True,
            secure=self.settings.session_cookie_secure,
            samesite="Lax",
        )
