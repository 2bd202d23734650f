"""Blueprint: order."""

from quart import Blueprint

bp = Blueprint("order", __name__)
