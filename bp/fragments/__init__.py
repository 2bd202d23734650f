"""Blueprint: fragments."""

from quart import Blueprint

bp = Blueprint("fragments", __name__)
