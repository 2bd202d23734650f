"""A request's headers read from its ASGI scope, for what runs before the framework has made a
request of it (lib/pipeline.py's layer and its lanes): names in lower case, as ASGI gives
them, values as Quart reads them (latin-1)."""

from __future__ import annotations

from hypercorn.typing import HTTPScope
from werkzeug.http import parse_cookie

COOKIE = b"cookie"


def header_lines(scope: HTTPScope, name: bytes) -> list[str]:
    """Every line of the header `name`, in order."""
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def header_value(scope: HTTPScope, name: bytes) -> str | None:
    """The first line of the header `name`, as Quart's `headers.get` gives it, or None."""
    lines = header_lines(scope, name)
    return lines[0] if lines else None


def cookies_in(scope: HTTPScope) -> dict[str, str]:
    """The request's cookies by name (the first of a name), as Quart's `request.cookies`."""
    lines = header_lines(scope, COOKIE)
    return dict(parse_cookie(";".join(lines))) if lines else {}
