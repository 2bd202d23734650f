"""Blueprint: the shopper's order list, and the `money` filter every template uses."""

from quart import Blueprint

bp = Blueprint("orders", __name__)

from bp.orders import routes, template_filters  # noqa: E402, F401
