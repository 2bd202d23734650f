"""The probes' blueprint; routes.py adds its routes to it."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("health", __name__)
