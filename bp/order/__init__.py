"""Blueprint: one order's page (and its payment actions). Importing it registers the routes."""

from bp.order import payment_routes, routes  # noqa: F401  (each module adds its routes)
from bp.order.blueprint import bp

__all__ = ["bp"]
