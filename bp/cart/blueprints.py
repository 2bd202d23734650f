"""The cart's two blueprints; the route modules beside this one add their routes to them."""

from __future__ import annotations

from quart import Blueprint

# The shopper's cart, its pages and checkout.
bp = Blueprint("cart", __name__)
# The JSON API other coop apps call (bearer token, no CSRF).
internal_bp = Blueprint("internal_cart", __name__, url_prefix="/internal/cart")
