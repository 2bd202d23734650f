"""Blueprint: development-only stand-ins for the coop's account app (sign-in) and shop apps
(storefront). Importing it registers the routes."""

from bp.dev import sign_in_routes, storefront_routes  # noqa: F401  (each adds its routes)
from bp.dev.blueprint import bp

__all__ = ["bp"]
