"""Who is signed in, as the shared session says."""

from __future__ import annotations

from quart import session

from config.settings import Settings


def current_user_id() -> int | None:
    """The signed-in user's id from the shared session, or None."""
    value = session.get("user_id")
    # bool is an int subclass; a session saying `true` is not user 1.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None


def current_user_name() -> str | None:
    """A display name for the signed-in user, when the account app stored one."""
    name = session.get("user_name")
    return name if isinstance(name, str) and name else None


def sign_in_url(settings: Settings, next_path: str = "/") -> str:
    """Where a shopper signs in: the development page, or the account app."""
    if settings.is_development:
        return f"/dev/sign-in?next={next_path}"
    return f"{settings.url_for_app('account')}/login?next={settings.public_base_url}{next_path}"
