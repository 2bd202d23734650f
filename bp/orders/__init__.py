"""Blueprint: the shopper's order list, and the `money` filter every template uses. Importing
it registers both."""

from bp.orders import routes  # noqa: F401  (adds its routes)
from bp.orders.blueprint import bp
from bp.orders.filters import money  # noqa: F401  (adds the app-wide template filter)

__all__ = ["bp"]
