"""HTMX request detection and the answer shapes of shopper POSTs."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import unquote

from quart import Response, redirect, request
from werkzeug.sansio.response import Response as AnyResponse
from werkzeug.wrappers.response import Response as WerkzeugResponse

# The page's toast regions (fixed in the viewport, templates/base.html), where feedback and errors
# land whatever element asked: successes in the polite one, errors in the assertive one.
MESSAGES_TARGET = "#messages"
ALERTS_TARGET = "#alerts"
MAX_NEXT_LENGTH = 2000

R = TypeVar("R", bound=AnyResponse)


def is_htmx() -> bool:
    """True for requests made by HTMX (not for boosted full-page navigations)."""
    return request.headers.get("HX-Request") == "true" and (
        request.headers.get("HX-Boosted") != "true"
    )


def see_other(location: str) -> WerkzeugResponse:
    """303 after a POST, so a reload does not repeat it."""
    return redirect(location, 303)


def go_to(url: str) -> Response | WerkzeugResponse:
    """Send the browser to `url`: a 303, or for HTMX an HX-Redirect (it may be another site)."""
    if is_htmx():
        return Response("", status=200, headers={"HX-Redirect": url})
    return see_other(url)


def to_messages(response: R) -> R:
    """Have HTMX put this answer into the page's message toasts instead of its target."""
    response.headers["HX-Retarget"] = MESSAGES_TARGET
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def to_alerts(response: R) -> R:
    """Have HTMX put this problem into the page's error toasts (announced at once)."""
    response.headers["HX-Retarget"] = ALERTS_TARGET
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def is_same_site_path(target: str) -> bool:
    """A path on this site: not `//host`, no scheme, no whitespace, control character or
    backslash, neither as given nor once more decoded.

    Browsers drop tabs and newlines from a Location and read `\\` as `/`, so `/<tab>/evil`
    or `/\\evil` would take the shopper to another site; a newline would also split the header.
    """
    if len(target) > MAX_NEXT_LENGTH:
        return False
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith("//"):
            return False
        if "\\" in form or any(ch.isspace() or not ch.isprintable() for ch in form):
            return False
    return True


def safe_next(default: str) -> str:
    """Where to send a non-HTMX POST back to: a same-site path from `?next=`, or the default."""
    target = request.args.get("next") or ""
    return target if is_same_site_path(target) else default
