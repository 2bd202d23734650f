"""Who may enter the staff console: the account domain's staff, asked on every request.

Anyone else gets the very answer a path that does not exist gets (404), before CSRF or
anything else could say that something is there.
"""

from __future__ import annotations

from quart import Request, g, session
from werkzeug.exceptions import NotFound

from bp.runtime import current_runtime
from bp.staff.blueprint import STAFF_PREFIX
from lib.auth import current_user_id
from lib.error_codes import ErrorCode
from lib.errors import unavailable
from lib.sessions import RedisSession

STAFF_USER = "staff_user_id"


def is_staff_path(path: str) -> bool:
    return path == STAFF_PREFIX or path.startswith(STAFF_PREFIX + "/")


async def require_staff(request: Request) -> None:
    """A step of the request pipeline: a staff path answers 404 unless the signed-in user is
    staff."""
    if not is_staff_path(request.path):
        return
    if isinstance(session, RedisSession) and session.unavailable:
        # Who signed in cannot be read: "try again", as on every page, rather than a 404.
        raise unavailable(ErrorCode.SESSION_STORE_UNAVAILABLE)
    user_id = current_user_id()
    if user_id is None:
        raise NotFound()
    runtime = current_runtime()
    async with runtime.databases.account_sessionmaker() as account:
        staff = await runtime.domains.account.is_staff(account, user_id)
    if not staff:
        raise NotFound()
    setattr(g, STAFF_USER, user_id)


def current_staff_user_id() -> int:
    """The staff member this request acts for (the gate let it in)."""
    user_id: int = g.get(STAFF_USER)
    return user_id
