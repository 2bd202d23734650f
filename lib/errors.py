"""One error type for expected failures; lib/error_handlers.py answers it for each caller.

Services raise these and know nothing of requests: the same error is a JSON body for another
coop app, a fragment for HTMX and a page for a browser. The failures nobody raises on purpose
that still mean "a server we need is down, try again" are recognised here too
(`unavailable_dependency`), so that they are answered 503, never 500.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from lib.error_codes import ErrorCode, message_of

# PostgreSQL's codes for a server that is going away, starting, or full: class 08 (connection
# exceptions), admin/crash shutdown, "cannot connect now", too many connections.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# PostgreSQL's codes for a transaction it rolled back because another one got in its way
# (serialization failure, deadlock): nothing of it was saved, and the same request may well
# succeed when sent again.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
# What asyncpg raises when the server or the connection is gone.
ASYNCPG_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    # A connection cut off mid-query can leave the driver's protocol out of step (seen when
    # PostgreSQL restarts under load): the connection is unusable, the server may be back soon.
    asyncpg.exceptions._base.InternalClientError,
)
# A server this service needs is unreachable: its code (whose message says "try again"), by
# the dependency that is down.
UNAVAILABLE_CODES = {
    "database": ErrorCode.DATABASE_UNAVAILABLE,
    "redis": ErrorCode.SESSION_STORE_UNAVAILABLE,
}
# After a 503, the caller may try again this many seconds later.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


class ServiceError(Exception):
    """An expected failure: an HTTP status and an ErrorCode, whose message (lib/error_codes.py)
    is filled with `values`."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        /,
        *,
        retry_after: int | None = None,
        **values: object,
    ) -> None:
        message = message_of(code, **values)
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        # Seconds after which the same request may succeed (sent as Retry-After), if known.
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ServiceError({self.status}, {self.code!r}, {self.message!r})"


def unavailable(code: ErrorCode) -> ServiceError:
    """The 503 of a server this service needs (a code of UNAVAILABLE_CODES)."""
    return ServiceError(503, code, retry_after=UNAVAILABLE_RETRY_AFTER_SECONDS)


class NotFound(ServiceError):
    """Something that does not exist, or that belongs to someone else."""

    def __init__(self, code: ErrorCode = ErrorCode.NOT_FOUND, /, **values: object) -> None:
        super().__init__(404, code, retry_after=None, **values)


class BadRequest(ServiceError):
    """An input a person can correct."""

    def __init__(self, code: ErrorCode, /, **values: object) -> None:
        super().__init__(400, code, retry_after=None, **values)


class FieldError(BadRequest):
    """An input a person can correct, told by the form field it came from.

    `field` names the field and `value` is what the shopper typed, so that the page can show
    the message next to the field with the value kept; where no page has that field the error
    is answered like any other. The other keyword values fill the code's message.
    """

    def __init__(self, code: ErrorCode, /, *, field: str, value: str, **values: object) -> None:
        super().__init__(code, **values)
        self.field = field
        self.value = value


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then what caused it (or what it was raised while handling, or the driver's
    error SQLAlchemy wraps), once each."""
    seen: set[int] = set()
    waiting: list[BaseException] = [error]
    while waiting:
        current = waiting.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "orig", None), current.__cause__ or current.__context__):
            if isinstance(nxt, BaseException):
                waiting.append(nxt)


def database_unavailable(error: BaseException) -> bool:
    """Whether the error means the database could not be reached: refused or lost
    connections, a server shutting down or starting, the pool's wait running out."""
    for cause in _chain(error):
        if isinstance(cause, (PoolTimeout, DisconnectionError, *ASYNCPG_UNAVAILABLE)):
            return True
        if isinstance(cause, asyncpg.exceptions.InterfaceError) and "closed" in str(cause):
            return True
        if isinstance(cause, DBAPIError):
            sqlstate = str(getattr(cause.orig, "sqlstate", "") or "")
            if (
                cause.connection_invalidated
                or sqlstate.startswith("08")
                or sqlstate in UNAVAILABLE_SQLSTATES
            ):
                return True
    # The driver raises the socket's own error when it cannot connect (refused, timed out).
    return isinstance(error, OSError)


def concurrent_conflict(error: BaseException) -> bool:
    """Whether PostgreSQL rolled the work back because a concurrent transaction got in its way
    (for example a shopper lowering a quantity in one tab while checking out in another)."""
    return any(
        str(getattr(cause, "sqlstate", "") or "") in CONFLICT_SQLSTATES for cause in _chain(error)
    )


def refused_by(error: BaseException, constraint: str) -> bool:
    """Whether PostgreSQL refused the work because of this constraint (or constraint trigger)."""
    return any(getattr(cause, "constraint_name", None) == constraint for cause in _chain(error))


def redis_unavailable(error: BaseException) -> bool:
    """Whether the error means Redis could not be reached (its retries ran out)."""
    return any(
        isinstance(cause, RedisConnectionError | RedisTimeoutError) for cause in _chain(error)
    )


def unavailable_dependency(error: BaseException) -> str | None:
    """ "database" or "redis" when the error means that server is unreachable, else None."""
    if database_unavailable(error):
        return "database"
    if redis_unavailable(error):
        return "redis"
    return None
