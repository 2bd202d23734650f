"""Blueprint: the HTML fragments other coop apps embed (cart-mini, account-nav-item). Importing
it registers the routes."""

from bp.fragments import routes  # noqa: F401  (adds its routes)
from bp.fragments.blueprint import bp

__all__ = ["bp"]
