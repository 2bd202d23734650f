"""The yardstick of the hot-path benchmark: bare Quart answering the cart-mini fragment, no I/O.

Served by Hypercorn with the service's own settings (`hypercorn benchmarks.bare_app:app`), it
answers `GET /internal/fragments/cart-mini` with the markup of
`templates/fragments/_cart_mini.html` rendered for a fixed count, and the same cache headers.
Whatever the service spends beyond this app's time is the cart's own cost.
"""

from __future__ import annotations

import os

from quart import Quart, Response, jsonify

# The link the fragment carries: the service's PUBLIC_BASE_URL in the real one.
BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8002").rstrip("/")
COUNT = 7

# `_cart_mini.html` rendered with count 7 and oob=False, byte for byte in shape.
FRAGMENT = (
    f'<a id="cart-mini" href="{BASE_URL}/"\n'
    f'   aria-label="Cart, {COUNT} items" data-count="{COUNT}"\n'
    '   class="relative inline-flex items-center rounded-lg px-3 py-2 text-stone-800 '
    "hover:bg-stone-100 focus-visible:outline focus-visible:outline-2 "
    'focus-visible:outline-emerald-600">\n'
    '  <svg aria-hidden="true" class="h-6 w-6" viewBox="0 0 24 24" fill="none" '
    'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M3 4h2l2.4 11.2a2 2 0 0 0 2 1.6h7.7a2 2 0 0 0 2-1.5L21 8H6.2"/>'
    '<circle cx="10" cy="20" r="1.3"/><circle cx="17" cy="20" r="1.3"/></svg>\n'
    '  <span data-testid="cart-count" aria-hidden="true" class="absolute -right-1 -top-1 '
    "inline-flex h-5 min-w-5 items-center justify-center rounded-full bg-emerald-700 px-1 "
    f'text-xs font-semibold text-white">{COUNT}</span>\n'
    "</a>"
)

app = Quart(__name__)


def badge_response(html: str) -> Response:
    """A badge as the service sends it to other coop apps (never cached in between)."""
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Cookie, Authorization"
    return response


@app.get("/internal/fragments/cart-mini")
async def cart_mini() -> Response:
    """The badge, as the service sends it to other coop apps."""
    return badge_response(FRAGMENT)


@app.get("/healthz")
async def healthz() -> Response:
    """Alive: the benchmark waits for this before measuring."""
    return jsonify({"status": "ok"})
