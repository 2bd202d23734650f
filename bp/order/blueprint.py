"""The order page's blueprint; routes.py and payment_routes.py add their routes to it."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("order", __name__)
