"""The fragments' blueprint; routes.py adds its routes to it."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("fragments", __name__, url_prefix="/internal/fragments")
