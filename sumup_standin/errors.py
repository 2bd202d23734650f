"""Failures of stand-in operations, each carrying the answer SumUp would give."""

from __future__ import annotations

from decimal import Decimal


class StandinError(Exception):
    """An operation SumUp would refuse, with its status, `error_code` and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found() -> StandinError:
    """SumUp's 404 for an unknown checkout or transaction (or another merchant's)."""
    return StandinError(404, "NOT_FOUND", "Resource not found")


def duplicated_checkout() -> StandinError:
    """SumUp's 409 for a reference this merchant already used, whatever that checkout's status."""
    return StandinError(
        409,
        "DUPLICATED_CHECKOUT",
        "Checkout with this checkout reference and pay to email already exists",
    )


def already_processed() -> StandinError:
    """SumUp's 409 for a change to a checkout that is already paid."""
    return StandinError(409, "CHECKOUT_PROCESSED", "Checkout is already processed")


def session_expired() -> StandinError:
    """A payment attempt on a checkout that can no longer be processed."""
    return StandinError(409, "SESSION_EXPIRED", "Checkout session has expired")


def not_refundable() -> StandinError:
    """SumUp's 409 for a refund the transaction cannot take."""
    return StandinError(409, "CONFLICT", "The transaction is not refundable in its current state")


class RefundTooHigh(StandinError):
    """A refund of more than is left: the legacy endpoint's 409, the current one's 422."""

    def __init__(self, max_refundable: Decimal) -> None:
        super().__init__(409, "CONFLICT", "The transaction is not refundable in its current state")
        self.max_refundable = max_refundable
