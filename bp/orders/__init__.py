"""Blueprint: the shopper's order list, and the filters every template uses (`money`,
`local_datetime`, `local_date`). Importing it registers them."""

from bp.orders import find_routes, routes  # noqa: F401  (each adds its routes)
from bp.orders.blueprint import bp
from bp.orders.filters import localtime, money  # noqa: F401  (add the app-wide filters)

__all__ = ["bp"]
