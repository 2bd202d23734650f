"""The development stand-ins' blueprint; sign_in_routes.py and storefront_routes.py add to it."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")
