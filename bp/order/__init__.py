"""Blueprint: one order's page (and its payment actions). Importing it registers the routes."""

from bp.order import (  # noqa: F401  (each module adds its routes)
    link_routes,
    payment_routes,
    routes,
    template_globals,
)
from bp.order.blueprint import bp

__all__ = ["bp"]
