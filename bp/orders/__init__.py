"""Blueprint: orders."""

from quart import Blueprint

bp = Blueprint("orders", __name__)
