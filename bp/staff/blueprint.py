"""The staff console's blueprint: every route under /staff/, for the coop's staff only."""

from __future__ import annotations

from quart import Blueprint

STAFF_PREFIX = "/staff"

bp = Blueprint("staff", __name__, url_prefix=STAFF_PREFIX)
