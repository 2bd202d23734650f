"""HTMX request detection and the answer shape of shopper POSTs."""

from __future__ import annotations

from quart import redirect, request
from werkzeug.wrappers.response import Response


def is_htmx() -> bool:
    """True for requests made by HTMX (not for boosted full-page navigations)."""
    return request.headers.get("HX-Request") == "true" and (
        request.headers.get("HX-Boosted") != "true"
    )


def see_other(location: str) -> Response:
    """303 after a POST, so a reload does not repeat it."""
    return redirect(location, 303)


def safe_next(default: str) -> str:
    """Where to send a non-HTMX POST back to: a same-site path from the form, or the default."""
    target = (request.args.get("next") or "").strip()
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
