"""Who is signed in, as the shared session says, and where to sign in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from quart import session

from config.settings import Settings
from lib.ids import BIGINT_MAX, is_id

DEV_SIGN_IN_PATH = "/dev/sign-in"
# Left readable in the query: a slash and a colon cannot end or add a parameter.
READABLE = "/:"


def current_user_id() -> int | None:
    """The signed-in user's id from the shared session, or None.

    Another app wrote it: anything but a positive BIGINT, as a JSON integer or ASCII digits,
    is no user (a float, "²", a number too large for the column).
    """
    return user_id_in(session)


def user_id_in(shared: Mapping[str, Any]) -> int | None:
    """`current_user_id` of the shared session `shared`."""
    value = shared.get("user_id")
    # bool is an int subclass; a session saying `true` is not user 1.
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value) if len(value) <= len(str(BIGINT_MAX)) else None
    return value if isinstance(value, int) and is_id(value) else None


def current_user_name() -> str | None:
    """A display name for the signed-in user, when the account app stored one."""
    return user_name_in(session)


def user_name_in(shared: Mapping[str, Any]) -> str | None:
    """`current_user_name` of the shared session `shared`."""
    name = shared.get("user_name")
    return name if isinstance(name, str) and name else None


def sign_in_url(settings: Settings, next_path: str = "/") -> str:
    """Where a shopper signs in (the development page, or the account app), coming back here."""
    if settings.is_development:
        return f"{DEV_SIGN_IN_PATH}?{urlencode({'next': next_path}, safe=READABLE)}"
    back = settings.public_base_url.rstrip("/") + next_path
    return f"{settings.url_for_app('account')}/login?{urlencode({'next': back}, safe=READABLE)}"
