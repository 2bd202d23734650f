"""Blueprint: the staff console. Importing it registers the routes."""

from bp.staff import (
    action_routes,
    activity_routes,
    merchant_routes,
    order_routes,
    queue_routes,
    sales_routes,
)
from bp.staff.blueprint import bp
from bp.staff.gate import require_staff

__all__ = [
    "action_routes",
    "activity_routes",
    "bp",
    "merchant_routes",
    "order_routes",
    "queue_routes",
    "require_staff",
    "sales_routes",
]
