"""Blueprint: the HTML fragments other coop apps embed (cart-mini, account-nav-item)."""

from quart import Blueprint

bp = Blueprint("fragments", __name__, url_prefix="/internal/fragments")

from bp.fragments import routes  # noqa: E402, F401
