"""Blueprints: the shopper's cart, its pages and checkout (`bp`), and the internal JSON API
(`internal_bp`). Importing the package registers every route and hook on them."""

from bp.cart import (  # noqa: F401  (each module adds its routes or hooks)
    api,
    checkout_routes,
    field_errors,
    global_routes,
    overview_routes,
    page_routes,
    refund_api,
    request_identity,
    reserved_slugs,
    stale_views,
    template_helpers,
)
from bp.cart.blueprints import bp, internal_bp

__all__ = ["bp", "internal_bp"]
