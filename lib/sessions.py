"""Server-side sessions in the shared auth Redis index: a sign-in by the account app is seen here.

The contract with the other coop apps: the cookie (name and domain from config) holds an opaque
id; Redis key ``session:<id>`` in index 15 holds a JSON object. The account app writes
``user_id`` (int) and may write ``user_name``; the cart writes ``cart_sid`` (the anonymous cart's
id) and nothing else.

The cart accepts a session id only when Redis holds it (the account app or the cart stored it)
or when it carries the cart's signature (`lib/session_ids.py`): an id a client made up is
ignored and a new signed one handed out, so the cart never stores an id it did not mint. A page
view hands out that id without writing Redis. The session a request sees is read-only: the
cart changes its own keys with the atomic operations below, never by writing back what it read.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection, Iterator
from typing import Any

from hypercorn.typing import HTTPScope
from quart import Quart, Response, current_app, session
from quart.sessions import SessionInterface, SessionMixin
from quart.wrappers import BaseRequestWebsocket
from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.settings import Settings
from lib import session_store
from lib.redis_hot import HotRedis
from lib.session_ids import is_minted_here, mint_session_id
from lib.session_store import session_key

__all__ = ["RedisSession", "RedisSessionInterface", "session_key"]

MAX_COOKIE_LENGTH = 128
# A session id issued at sign-in: as unguessable as the ids the cart mints.
NEW_SESSION_ID_BYTES = 32
# Where a lane (lib/pipeline.py) that read the request's session and then left the request to
# the framework keeps what it read: the framework opens that, not another round trip.
READ_BY_LANE_KEY = "cart.session_read"
log = logging.getLogger(__name__)


class ReadOnlySession(TypeError):
    """The shared session is changed only through the atomic operations of this module."""


class RedisSession(SessionMixin):
    """What the shared session held when the request began, read-only.

    `sid` is an accepted id (stored in Redis, or signed here) or None; `send_cookie` says the
    response must hand it to the browser: it was made during this request, or the session was
    written and its cookie's lifetime follows.
    """

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        sid: str | None,
        stored: bool = False,
        unavailable: bool = False,
    ) -> None:
        self._data = dict(initial or {})
        self.sid = sid
        self.stored = stored
        self.send_cookie = False
        self.modified = False
        # True when Redis could not be read: the request must not act as if signed out.
        self.unavailable = unavailable

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setitem__(self, key: str, value: Any) -> None:
        raise ReadOnlySession("change the shared session with lib.sessions' atomic operations")

    def __delitem__(self, key: str) -> None:
        raise ReadOnlySession("change the shared session with lib.sessions' atomic operations")

    def _reflect(self, data: dict[str, Any]) -> None:
        """Show what Redis holds after one of our atomic changes."""
        self._data = dict(data)
        self.stored = True


class RedisSessionInterface(SessionInterface):
    """Reads sessions from the shared auth index and hands out signed ids.

    `store` answers the shared index's client; it is called per request because the client is
    opened when the app starts serving, after the interface is installed. `hot`, when given,
    answers its hot commands' connection (lib/redis_hot.py), which reads the session.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: Callable[[], Redis],
        hot: Callable[[], HotRedis] | None = None,
        needed: Callable[[BaseRequestWebsocket], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hot = hot
        # Whether a request's route reads the shopper's session at all: one that does not
        # (a probe, another app's call, SumUp's webhook, a static file) costs no round trip.
        self.needed = needed
        assert settings.secret_key is not None
        self._secret_key = settings.secret_key.get_secret_value()

    def get_cookie_name(self, app: Quart) -> str:
        return self.settings.session_cookie_key

    def get_cookie_domain(self, app: Quart) -> str | None:
        return self.settings.session_cookie_domain or None

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> RedisSession:
        if self.needed is not None and not self.needed(request):
            return RedisSession(sid=None)
        read = request.scope.get(READ_BY_LANE_KEY)
        if isinstance(read, RedisSession):
            return read
        return await self.read(request.cookies.get(self.get_cookie_name(app)))

    async def read_for_lane(self, scope: HTTPScope, sid: str | None) -> RedisSession:
        """`read`, for a lane: kept in the scope, for the framework if the lane leaves it."""
        shared = await self.read(sid)
        scope[READ_BY_LANE_KEY] = shared  # type: ignore[literal-required]
        return shared

    async def read(self, sid: str | None) -> RedisSession:
        """The session of the cookie's id `sid` (a request's, or a lane's)."""
        if not sid or len(sid) > MAX_COOKIE_LENGTH:
            return RedisSession(sid=None)
        try:
            reader = self.hot() if self.hot is not None else self.store()
            raw = await reader.get(session_key(sid))
        except RedisError:
            log.exception("session store unreachable")
            # Nothing is written while the store is down (the request is refused), so the id
            # may stand unverified for the CSRF check.
            return RedisSession(sid=sid, unavailable=True)
        if raw is not None:
            return RedisSession(session_store.read_object(raw), sid=sid, stored=True)
        if is_minted_here(self._secret_key, sid):
            return RedisSession(sid=sid)
        # An id nobody stored and we did not sign: never used, a fresh one is handed out.
        return RedisSession(sid=None)

    def mint(self, shared: RedisSession) -> str:
        """The session's id, minting a signed one (sent with the response) when it has none."""
        if shared.sid is None:
            shared.sid = mint_session_id(self._secret_key)
            shared.send_cookie = True
        return shared.sid

    def minted_here(self, sid: str) -> bool:
        """Whether `sid` carries the cart's signature (the cart sets its cookie)."""
        return is_minted_here(self._secret_key, sid)

    async def save_session(  # type: ignore[override]
        self, app: Quart, session: SessionMixin, response: Response
    ) -> None:
        # What the session holds is already in Redis: only its id may need sending.
        if not isinstance(session, RedisSession) or not session.send_cookie or not session.sid:
            return
        response.set_cookie(
            self.get_cookie_name(app),
            session.sid,
            max_age=self.settings.session_ttl_seconds,
            domain=self.get_cookie_domain(app),
            path="/",
            httponly=True,
            secure=self.settings.cookies_secure,
            samesite="Lax",
        )
        response.vary.add("Cookie")


def current_shared_session() -> RedisSession | None:
    """This request's shared session when Redis could be read, else None."""
    if isinstance(session, RedisSession) and not session.unavailable:
        return session
    return None


def _interface() -> RedisSessionInterface:
    interface = current_app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    return interface


def session_id(shared: RedisSession) -> str:
    """The browser's session id, minting a signed one on its first page view."""
    return _interface().mint(shared)


async def claim_key(
    shared: RedisSession,
    key: str,
    candidate: str,
    *,
    is_valid: Callable[[object], bool],
    ttl_if_new: int,
) -> str:
    """The value `key` holds in the shared session, or `candidate` stored there atomically."""
    interface = _interface()
    sid = interface.mint(shared)
    value = await session_store.claim_key(
        interface.store(), sid, key, candidate, is_valid=is_valid, ttl_if_new=ttl_if_new
    )
    shared._reflect({**shared._data, key: value})
    # The cookie of a session the cart minted follows the record's lifetime; another app's
    # cookie is that app's to set.
    shared.send_cookie = shared.send_cookie or interface.minted_here(sid)
    return value


async def remove_key(shared: RedisSession, key: str, *, only_if: object) -> None:
    """Remove `key` from the shared session if it still holds `only_if`."""
    if shared.sid is None:
        return
    await session_store.remove_keys(_interface().store(), shared.sid, [key], only_if={key: only_if})
    shared._reflect({k: v for k, v in shared._data.items() if k != key})


async def renew(
    shared: RedisSession, values: dict[str, Any], *, carry: Collection[str], ttl: int
) -> None:
    """A new session id holding `values` and the old session's `carry` keys; the old id ends.

    What the account app does at sign-in (the contract in the README): an id handed out
    before, perhaps planted in the victim's browser by someone who can set a cookie on the
    coop's domain, must not become a signed-in session, nor its CSRF token stay valid.
    """
    interface = _interface()
    new_sid = secrets.token_urlsafe(NEW_SESSION_ID_BYTES)
    old_sid = shared.sid or new_sid
    started = await session_store.move(
        interface.store(), old_sid, new_sid, carry=carry, values=values, ttl=ttl
    )
    shared.sid = new_sid
    shared._reflect(started)
    shared.send_cookie = True


async def remove_keys(shared: RedisSession, keys: Collection[str]) -> None:
    """Remove `keys` from the shared session atomically, keeping every other app's."""
    if shared.sid is None:
        return
    await session_store.remove_keys(_interface().store(), shared.sid, keys)
    shared._reflect({k: v for k, v in shared._data.items() if k not in keys})


async def extend_if_only(shared: RedisSession, keys: Collection[str], *, ttl: int) -> None:
    """Give a session that holds nothing but `keys` the lifetime `ttl` (see session_store)."""
    if shared.sid is not None and shared.stored:
        await session_store.extend_if_only(_interface().store(), shared.sid, keys, ttl=ttl)
