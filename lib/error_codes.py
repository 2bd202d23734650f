"""Every error code the service answers with, and the one message a person reads for each.

A new code is a member of ErrorCode and an entry of MESSAGES (a format string, or a function
where the sentence's grammar depends on a count); ServiceError takes only an ErrorCode, so
strict mypy refuses a code written inline, and tests/lib/test_error_codes.py refuses a code
without its message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Final


class ErrorCode(StrEnum):
    """The codes of error answers, in SCREAMING_SNAKE: JSON's error.code, data-error-code."""

    ALREADY_IN_CART = "ALREADY_IN_CART"
    ALREADY_REFUNDED = "ALREADY_REFUNDED"
    API_KEY_REQUIRED = "API_KEY_REQUIRED"
    AMBIGUOUS_IDENTITY = "AMBIGUOUS_IDENTITY"
    AMOUNT_ABOVE_PAID = "AMOUNT_ABOVE_PAID"
    BAD_REQUEST = "BAD_REQUEST"
    BOOKING_NOT_FOUND = "BOOKING_NOT_FOUND"
    CALENDAR_FILE_NOT_FOUND = "CALENDAR_FILE_NOT_FOUND"
    CART_CHANGED = "CART_CHANGED"
    CART_EMPTY = "CART_EMPTY"
    CART_ITEMS_GONE = "CART_ITEMS_GONE"
    CHECKOUT_BUSY = "CHECKOUT_BUSY"
    CHECKOUT_PAGE_MISSING = "CHECKOUT_PAGE_MISSING"
    CHECKOUT_PROVIDER_UNREACHABLE = "CHECKOUT_PROVIDER_UNREACHABLE"
    CHECKOUT_REFUSED = "CHECKOUT_REFUSED"
    CHECKOUT_REPLACED = "CHECKOUT_REPLACED"
    CHECKOUT_START_FAILED = "CHECKOUT_START_FAILED"
    CONFLICT_TRY_AGAIN = "CONFLICT_TRY_AGAIN"
    CSRF_FAILED = "CSRF_FAILED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    DATE_RANGE_TOO_LONG = "DATE_RANGE_TOO_LONG"
    EARLIER_CHECKOUT_PAID = "EARLIER_CHECKOUT_PAID"
    EMAIL_MISSING = "EMAIL_MISSING"
    EMAIL_TOO_LONG = "EMAIL_TOO_LONG"
    FILE_NOT_FOUND = "FILE_NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    HOLD_ENDED = "HOLD_ENDED"
    HTTP_ERROR = "HTTP_ERROR"
    IDEMPOTENCY_KEY_IN_PROGRESS = "IDEMPOTENCY_KEY_IN_PROGRESS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_DATE = "INVALID_DATE"
    INVALID_DATE_RANGE = "INVALID_DATE_RANGE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_FILTER = "INVALID_FILTER"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_JSON = "INVALID_JSON"
    INVALID_MERCHANT = "INVALID_MERCHANT"
    INVALID_PAGE = "INVALID_PAGE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_SEARCH = "INVALID_SEARCH"
    INVALID_SESSION_ID = "INVALID_SESSION_ID"
    INVALID_STATUS = "INVALID_STATUS"
    INVALID_USER_ID = "INVALID_USER_ID"
    INVALID_WEBHOOK = "INVALID_WEBHOOK"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    MERCHANT_CODE_REQUIRED = "MERCHANT_CODE_REQUIRED"
    MERCHANT_CONNECTION_FAILED = "MERCHANT_CONNECTION_FAILED"
    MERCHANT_CONNECTION_UNTESTED = "MERCHANT_CONNECTION_UNTESTED"
    MESSAGE_NOT_FOUND = "MESSAGE_NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    MISMATCH_RESOLVED = "MISMATCH_RESOLVED"
    MISSING_FIELD = "MISSING_FIELD"
    MISSING_IDENTITY = "MISSING_IDENTITY"
    NO_MISMATCH = "NO_MISMATCH"
    NO_SECOND_PAYMENT = "NO_SECOND_PAYMENT"
    NO_TRANSACTION = "NO_TRANSACTION"
    NOT_DEAD_LETTERED = "NOT_DEAD_LETTERED"
    NOT_DEAD_MAIL = "NOT_DEAD_MAIL"
    NOT_ENOUGH_TICKETS = "NOT_ENOUGH_TICKETS"
    NOT_FOUND = "NOT_FOUND"
    NOT_IN_CART = "NOT_IN_CART"
    NOTHING_TO_PAY = "NOTHING_TO_PAY"
    NOTHING_TO_RESEND = "NOTHING_TO_RESEND"
    ORDER_ALREADY_PAID = "ORDER_ALREADY_PAID"
    ORDER_CLOSED = "ORDER_CLOSED"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_PAID = "ORDER_NOT_PAID"
    ORDER_NOT_WAITING = "ORDER_NOT_WAITING"
    ORDER_PAYMENT_BUSY = "ORDER_PAYMENT_BUSY"
    PAGE_NOT_FOUND = "PAGE_NOT_FOUND"
    PAGE_SLUG_RESERVED = "PAGE_SLUG_RESERVED"
    PAYMENT_PROVIDER_UNAVAILABLE = "PAYMENT_PROVIDER_UNAVAILABLE"
    PAYMENT_UNDER_REVIEW = "PAYMENT_UNDER_REVIEW"
    PAYMENTS_NOT_CONFIGURED = "PAYMENTS_NOT_CONFIGURED"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    QUANTITY_LIMIT = "QUANTITY_LIMIT"
    QUANTITY_MISSING = "QUANTITY_MISSING"
    QUANTITY_NOT_WHOLE = "QUANTITY_NOT_WHOLE"
    REASON_REQUIRED = "REASON_REQUIRED"
    REASON_TOO_LONG = "REASON_TOO_LONG"
    REFUND_IN_PROGRESS = "REFUND_IN_PROGRESS"
    REFUND_REFUSED = "REFUND_REFUSED"
    REFUND_UNCONFIRMED = "REFUND_UNCONFIRMED"
    SECOND_PAYMENT_REFUNDED = "SECOND_PAYMENT_REFUNDED"
    SESSION_FULLY_BOOKED = "SESSION_FULLY_BOOKED"
    SESSION_STORE_UNAVAILABLE = "SESSION_STORE_UNAVAILABLE"
    SIGN_IN_REQUIRED = "SIGN_IN_REQUIRED"
    SLOT_NOT_FOUND = "SLOT_NOT_FOUND"
    SOLD_OUT = "SOLD_OUT"
    SPLIT_CHECKOUT_REQUIRED = "SPLIT_CHECKOUT_REQUIRED"
    TICKET_NOT_FOUND = "TICKET_NOT_FOUND"
    TICKET_TYPE_NOT_FOUND = "TICKET_TYPE_NOT_FOUND"
    TICKET_TYPE_NOT_IN_CART = "TICKET_TYPE_NOT_IN_CART"
    TICKETS_SOLD_OUT = "TICKETS_SOLD_OUT"
    TOO_LARGE = "TOO_LARGE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    UNAUTHORIZED = "UNAUTHORIZED"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    UNKNOWN_PAGE = "UNKNOWN_PAGE"
    UNKNOWN_USER = "UNKNOWN_USER"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"


def _too_many_requests(*, wait: int) -> str:
    unit = "second" if wait == 1 else "seconds"
    return f"Too many requests in a short time. Please wait {wait} {unit} and try again."


def _missing_identity(*, both: bool) -> str:
    if both:
        return "Give both user_id and session_id."
    return "Give a user_id or a session_id."


def _session_fully_booked(*, session: str, available: int, wanted: int) -> str:
    if available == 0:
        return f"{session} is fully booked. Please remove it from your cart."
    places = "place is" if available == 1 else "places are"
    return (
        f"Only {available} {places} left at {session}, and your cart has {wanted}. "
        "Please change your cart."
    )


def _tickets_sold_out(*, tickets: str, event: str, available: int) -> str:
    if available == 0:
        return f"{tickets} for {event} are sold out. Please remove them from your cart."
    verb = "is" if available == 1 else "are"
    return f"Only {available} of the {tickets} for {event} {verb} left. Please change your cart."


def _not_enough_tickets(*, left: int, ticket_type: str, event: str) -> str:
    noun, verb = ("ticket", "is") if left == 1 else ("tickets", "are")
    return (
        f"Only {left} {ticket_type} {noun} for {event} {verb} left, so your cart can "
        f"hold at most {left}."
    )


def _nothing_to_resend(*, order_id: int, status: str | None) -> str:
    if status in ("pending", "sending"):
        return f"The confirmation of order #{order_id} is on its way already."
    if status == "skipped":
        return f"The confirmation of order #{order_id} has no address to go to."
    return f"Order #{order_id} has no confirmation to send again: it has not been paid and mailed."


Message = str | Callable[..., str]
# Placeholders are filled from the keyword values the error is raised with.
MESSAGES: Final[Mapping[ErrorCode, Message]] = {
    ErrorCode.ALREADY_IN_CART: "{name} is already in your cart.",
    ErrorCode.ALREADY_REFUNDED: "Order #{order_id} was already refunded ({amount} on {day}).",
    ErrorCode.AMBIGUOUS_IDENTITY: "Give a user_id or a session_id, not both.",
    ErrorCode.AMOUNT_ABOVE_PAID: (
        "Order #{order_id} was paid {paid}; a refund cannot be more than that."
    ),
    ErrorCode.API_KEY_REQUIRED: "Enter the merchant's SumUp API key.",
    ErrorCode.BAD_REQUEST: "The request could not be understood.",
    ErrorCode.BOOKING_NOT_FOUND: "That booking is not in your cart.",
    ErrorCode.CALENDAR_FILE_NOT_FOUND: "This order has no such calendar file.",
    ErrorCode.CART_CHANGED: "Your cart changed, please review it.",
    ErrorCode.CART_EMPTY: "Your cart is empty.",
    ErrorCode.CART_ITEMS_GONE: "The items in your cart are no longer available.",
    ErrorCode.CHECKOUT_BUSY: (
        "Your cart is being checked out in another window. Please try again in a moment."
    ),
    ErrorCode.CHECKOUT_PAGE_MISSING: "SumUp did not give us a payment page for this order.",
    ErrorCode.CHECKOUT_PROVIDER_UNREACHABLE: (
        "We could not reach our payment provider. Your order is saved: "
        "please try again in a moment."
    ),
    ErrorCode.CHECKOUT_REFUSED: (
        "Our payment provider refused to start this payment. Your order is saved; "
        "please try again later or contact the coop."
    ),
    ErrorCode.CHECKOUT_REPLACED: (
        "This checkout was replaced by a newer one. Please review your cart."
    ),
    ErrorCode.CHECKOUT_START_FAILED: "We could not start the payment for this order.",
    ErrorCode.CONFLICT_TRY_AGAIN: (
        "This changed in another request at the same moment, so nothing was saved. "
        "Please try again."
    ),
    ErrorCode.CSRF_FAILED: "This form has expired. Please reload the page and try again.",
    ErrorCode.DATABASE_UNAVAILABLE: (
        "We cannot reach our database just now. Please try again in a moment."
    ),
    ErrorCode.DATE_RANGE_TOO_LONG: "Choose a range of at most five years.",
    ErrorCode.EARLIER_CHECKOUT_PAID: (
        "Your earlier checkout of this cart (order #{order_id}) has just been paid, so no "
        "new order was made. You can see it under Your orders."
    ),
    ErrorCode.EMAIL_MISSING: "Enter your email address: your receipt and order link go there.",
    ErrorCode.EMAIL_TOO_LONG: "That address is longer than {max_length} characters.",
    ErrorCode.FILE_NOT_FOUND: "We could not find that file.",
    ErrorCode.FORBIDDEN: "You are not allowed to do that.",
    ErrorCode.HOLD_ENDED: (
        "Order #{order_id} held its items for as long as an order may, so it was closed and "
        "its tickets and places were released for others. Nothing was charged, and everything "
        "is back in your cart: check out again to order what is still available."
    ),
    ErrorCode.HTTP_ERROR: "{description}",
    ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS: (
        "A request with this key is in progress. Retry in a moment to get its answer."
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (
        "This {header} was used for a different request (another body or path). "
        "Use a new key for a new request."
    ),
    ErrorCode.INTERNAL_ERROR: "Something went wrong on our side. Please try again.",
    ErrorCode.INVALID_AMOUNT: (
        'The amount must be a number such as "12.50", more than zero, '
        "with at most two decimal places."
    ),
    ErrorCode.INVALID_DATE: "The {name} date must be a day such as 2026-12-05.",
    ErrorCode.INVALID_DATE_RANGE: "The end date is before the start date.",
    ErrorCode.INVALID_FILTER: "There is no filter {flag!r}.",
    ErrorCode.INVALID_IDEMPOTENCY_KEY: (
        "The {header} header must be 1 to {max_length} printable ASCII characters."
    ),
    ErrorCode.INVALID_EMAIL: "That is not an email address: {detail}",
    ErrorCode.INVALID_INPUT: "{field}: {detail}.",
    ErrorCode.INVALID_JSON: "Send a JSON object{example}.",
    ErrorCode.INVALID_MERCHANT: "{detail}.",
    ErrorCode.INVALID_PAGE: "The page must be a number from 1 to {maximum}.",
    ErrorCode.INVALID_QUANTITY: "The quantity must be a whole number {bounds}.",
    ErrorCode.INVALID_SEARCH: "The search can be at most {maximum} characters.",
    ErrorCode.INVALID_SESSION_ID: "session_id must be 1 to 64 letters, digits, '-' or '_'.",
    ErrorCode.INVALID_STATUS: "There is no order status {status!r}.",
    ErrorCode.INVALID_USER_ID: "user_id must be a positive integer.",
    ErrorCode.INVALID_WEBHOOK: "The webhook body must be a JSON object.",
    ErrorCode.LINE_NOT_FOUND: "That item is not in your cart.",
    ErrorCode.MERCHANT_CODE_REQUIRED: "Enter the SumUp merchant code.",
    ErrorCode.MERCHANT_CONNECTION_FAILED: (
        "SumUp refused the key for merchant {merchant_code} ({reason}). Nothing was saved."
    ),
    ErrorCode.MERCHANT_CONNECTION_UNTESTED: (
        "SumUp could not be asked just now. Please try the connection again in a minute."
    ),
    ErrorCode.MESSAGE_NOT_FOUND: (
        "There is no such message: it may have expired, or the list was cleared."
    ),
    ErrorCode.METHOD_NOT_ALLOWED: "That action is not available here.",
    ErrorCode.MISMATCH_RESOLVED: ("Order #{order_id}'s unmatched payment was resolved on {day}."),
    ErrorCode.MISSING_FIELD: "{field} is required. Send a JSON object{example}.",
    ErrorCode.MISSING_IDENTITY: _missing_identity,
    ErrorCode.NO_MISMATCH: "Order #{order_id} has no payment that failed to match.",
    ErrorCode.NO_SECOND_PAYMENT: "Order #{order_id} was not paid twice.",
    ErrorCode.NO_TRANSACTION: (
        "Order #{order_id} has no SumUp transaction id to refund; refund it in SumUp's dashboard."
    ),
    ErrorCode.NOT_DEAD_LETTERED: (
        "Outbox event {event_id} is not dead-lettered: it was retried already, delivered, "
        "or does not exist."
    ),
    ErrorCode.NOT_DEAD_MAIL: (
        "Message {message_id} is not dead: it was retried already, sent, or does not exist."
    ),
    ErrorCode.NOT_ENOUGH_TICKETS: _not_enough_tickets,
    ErrorCode.NOT_FOUND: "We could not find that page.",
    ErrorCode.NOT_IN_CART: "That is not in your cart.",
    ErrorCode.NOTHING_TO_PAY: "There is nothing to pay for in your cart.",
    ErrorCode.NOTHING_TO_RESEND: _nothing_to_resend,
    ErrorCode.ORDER_ALREADY_PAID: "This order is already paid.",
    ErrorCode.ORDER_CLOSED: (
        "This order was {status} and can no longer be paid; its items are back in your cart."
    ),
    ErrorCode.ORDER_NOT_FOUND: ("We could not find that order. It may belong to another account."),
    ErrorCode.ORDER_NOT_PAID: ("Order #{order_id} is {status}; only a paid order can be refunded."),
    ErrorCode.ORDER_NOT_WAITING: (
        "Order #{order_id} is {status}, so it was not cancelled: only an order waiting for "
        "payment can be cancelled."
    ),
    ErrorCode.ORDER_PAYMENT_BUSY: (
        "This order is being paid in another window. Please try again in a moment."
    ),
    ErrorCode.PAGE_NOT_FOUND: "We could not find that page.",
    ErrorCode.PAGE_SLUG_RESERVED: (
        "“{slug}” is the address of one of the cart's own pages, so a shop page called "
        "“{slug}” cannot have its cart at /{slug}/. Please ask the coop to give that "
        "page another address."
    ),
    ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE: (
        "We could not reach our payment provider. Please try again in a minute."
    ),
    ErrorCode.PAYMENT_UNDER_REVIEW: (
        "We received a payment for order #{order_id} that we could not match to it. "
        "The coop will look into it before anything more is paid."
    ),
    ErrorCode.PAYMENTS_NOT_CONFIGURED: (
        "{shop} cannot take card payments yet. Nothing was charged; "
        "please contact the coop or try again later."
    ),
    ErrorCode.PRODUCT_UNAVAILABLE: "That product is no longer available.",
    ErrorCode.QUANTITY_LIMIT: "You can have at most {maximum} of {item} in your cart.",
    ErrorCode.QUANTITY_MISSING: "The quantity must be a whole number {bounds}.",
    ErrorCode.QUANTITY_NOT_WHOLE: "The quantity must be a whole number {bounds}.",
    ErrorCode.REASON_REQUIRED: "Say why the order is refunded.",
    ErrorCode.REASON_TOO_LONG: "The reason can be at most {maximum} characters.",
    ErrorCode.REFUND_IN_PROGRESS: (
        "A refund of order #{order_id} was started at {started} UTC and SumUp "
        "has not confirmed it yet. Try again in a few minutes: it will not be made "
        "twice."
    ),
    ErrorCode.REFUND_REFUSED: "SumUp refused the refund of order #{order_id}: {reason}.",
    ErrorCode.REFUND_UNCONFIRMED: (
        "SumUp did not confirm the refund of order #{order_id}. It is kept as pending "
        "confirmation, so it will not be made twice: it is checked with SumUp again "
        "automatically, or run the refund again in a few minutes."
    ),
    ErrorCode.SECOND_PAYMENT_REFUNDED: (
        "Order #{order_id}'s second payment was recorded as refunded on {day}."
    ),
    ErrorCode.SESSION_FULLY_BOOKED: _session_fully_booked,
    ErrorCode.SESSION_STORE_UNAVAILABLE: (
        "We are having trouble right now: we cannot reach our session store. "
        "Please try again in a moment."
    ),
    ErrorCode.SIGN_IN_REQUIRED: (
        "Please sign in to buy tickets: they are kept in your account's cart."
    ),
    ErrorCode.SLOT_NOT_FOUND: "That session does not exist.",
    ErrorCode.SOLD_OUT: "Sorry, {ticket_type} tickets for {event} are sold out.",
    ErrorCode.SPLIT_CHECKOUT_REQUIRED: (
        "The items in your cart are sold by different shops that are each paid separately. "
        "Please check out each page's cart on its own."
    ),
    ErrorCode.TICKET_NOT_FOUND: "That ticket is not in your cart.",
    ErrorCode.TICKET_TYPE_NOT_FOUND: "Those tickets do not exist.",
    ErrorCode.TICKET_TYPE_NOT_IN_CART: "Those tickets are not in your cart.",
    ErrorCode.TICKETS_SOLD_OUT: _tickets_sold_out,
    ErrorCode.TOO_LARGE: "The request is too large.",
    ErrorCode.TOO_MANY_REQUESTS: _too_many_requests,
    ErrorCode.UNAUTHORIZED: "A valid internal API token is required.",
    ErrorCode.UNKNOWN_ORDER: "There is no order #{order_id}.",
    ErrorCode.UNKNOWN_PAGE: "There is no page {slug!r}.",
    ErrorCode.UNKNOWN_USER: "Choose one of the demo users.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "The request body has a type we do not accept.",
}


def message_of(code: ErrorCode, **values: object) -> str:
    """The message of `code`, filled with `values`."""
    text = MESSAGES[code]
    return text(**values) if callable(text) else text.format(**values)
