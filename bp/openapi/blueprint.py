"""The OpenAPI document's blueprint; routes.py adds its route to it."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("openapi", __name__, url_prefix="/internal")
