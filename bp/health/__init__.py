"""Liveness and readiness probes."""

from quart import Blueprint

bp = Blueprint("health", __name__)

from bp.health import routes  # noqa: E402, F401
