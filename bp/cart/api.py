"""The internal JSON API other coop apps call (bearer token, no CSRF)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("internal_cart", __name__, url_prefix="/internal/cart")
