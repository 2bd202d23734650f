"""Development-only stand-ins for the coop's account app (sign-in) and shop apps (storefront)."""

from quart import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")

from bp.dev import sign_in_routes, storefront_routes  # noqa: E402, F401
