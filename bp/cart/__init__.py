"""Blueprint: the shopper's cart, its pages and checkout."""

from quart import Blueprint

bp = Blueprint("cart", __name__)

# Ids in URLs are BIGINT: a larger number matches no route (404), never reaches the database.
ID = "int(max=9223372036854775807)"

from bp.cart import (  # noqa: E402, F401
    checkout_routes,
    global_routes,
    hooks,
    overview_routes,
    page_routes,
)
