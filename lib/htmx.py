"""HTMX request detection and the answer shapes of shopper POSTs."""

from __future__ import annotations

from typing import TypeVar

from quart import Response, redirect, request
from werkzeug.sansio.response import Response as AnyResponse
from werkzeug.wrappers.response import Response as WerkzeugResponse

# The page's message region, where feedback and errors land whatever element asked.
MESSAGES_TARGET = "#messages"

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
    """Have HTMX put this answer into the page's message region instead of its target."""
    response.headers["HX-Retarget"] = MESSAGES_TARGET
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def safe_next(default: str) -> str:
    """Where to send a non-HTMX POST back to: a same-site path from the form, or the default."""
    target = (request.args.get("next") or "").strip()
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
