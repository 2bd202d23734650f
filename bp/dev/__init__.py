"""Blueprint: development-only stand-ins for the coop's account app (sign-in) and shop apps
(storefront), and the caught mail. Importing it registers the routes."""

# Each adds its routes to the blueprint.
from bp.dev import mail_routes, sign_in_routes, storefront_routes  # noqa: F401
from bp.dev.blueprint import bp

__all__ = ["bp"]
