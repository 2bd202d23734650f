"""Blueprint: one order's page (and its payment actions)."""

from quart import Blueprint

bp = Blueprint("order", __name__)

from bp.order import payment_routes, routes  # noqa: E402, F401
