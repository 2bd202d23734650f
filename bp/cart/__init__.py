"""Blueprint: the shopper's cart, its pages and checkout."""

from quart import Blueprint

bp = Blueprint("cart", __name__)
