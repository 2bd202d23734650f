"""The order list's blueprint; routes.py and filters/money.py add to it."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("orders", __name__)
