"""Typed models: the cart's own tables, and the coop's shared tables it reads."""

from models.base import CartBase, SharedBase, utcnow
from models.cart_item import CartItem
from models.order import (
    ACCESS_SECRET_LENGTH,
    CLOSED_STATUSES,
    MAX_TEXT_LENGTH,
    OPEN_STATUSES,
    ORDER_STATUSES,
    ClosedStatus,
    Order,
    OrderItem,
    OrderStatus,
)
from models.order_checkout import OrderCheckout
from models.outbox import OutboxEvent
from models.page_config import PageConfig
from models.payment_attempt import PaymentAttempt
from models.sent_message import MESSAGE_KINDS, SentMessage
from models.shared.calendar import BOOKED_ENTRY_STATES, Calendar, CalendarEntry, CalendarSlot
from models.shared.federation import FederationActivity
from models.shared.page import Page
from models.shared.product import Product
from models.shared.ticket import PAID_TICKET_STATES, SOLD_TICKET_STATES, Ticket, TicketType
from models.shared.user import User
from models.staff_action import STAFF_ACTION_OUTCOMES, StaffAction

__all__ = [
    "ACCESS_SECRET_LENGTH",
    "BOOKED_ENTRY_STATES",
    "CLOSED_STATUSES",
    "MAX_TEXT_LENGTH",
    "MESSAGE_KINDS",
    "OPEN_STATUSES",
    "ORDER_STATUSES",
    "PAID_TICKET_STATES",
    "SOLD_TICKET_STATES",
    "STAFF_ACTION_OUTCOMES",
    "Calendar",
    "CalendarEntry",
    "CalendarSlot",
    "CartBase",
    "CartItem",
    "ClosedStatus",
    "FederationActivity",
    "Order",
    "OrderCheckout",
    "OrderItem",
    "OrderStatus",
    "OutboxEvent",
    "Page",
    "PageConfig",
    "PaymentAttempt",
    "Product",
    "SentMessage",
    "SharedBase",
    "StaffAction",
    "Ticket",
    "TicketType",
    "User",
    "utcnow",
]
