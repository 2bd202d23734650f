"""The expected failures of checkout and settlement, as ServiceErrors a person can read."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.error_codes import ErrorCode, message_of
from lib.errors import ServiceError
from services.contracts.dtos import PageDTO


class PaymentProviderUnavailable(ServiceError):
    """SumUp could not be reached or answered with a failure we cannot act on (retry later)."""

    def __init__(self, code: ErrorCode = ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE) -> None:
        super().__init__(503, code)


class MerchantNotConfigured(ServiceError):
    """A page (or the whole site) has no SumUp merchant to be paid to."""

    def __init__(self, page_title: str | None = None) -> None:
        shop = f"“{page_title}”" if page_title else "This shop"
        super().__init__(409, ErrorCode.PAYMENTS_NOT_CONFIGURED, shop=shop)


class HoldEnded(ServiceError):
    """The order held its tickets and places as long as an order may; they were released."""

    def __init__(self, order_id: int) -> None:
        super().__init__(409, ErrorCode.HOLD_ENDED, order_id=order_id)


class CheckoutStartFailed(ServiceError):
    """The order is saved but SumUp's hosted checkout could not be created; it can be retried."""

    def __init__(self, order_id: int, code: ErrorCode, status: int = 503) -> None:
        super().__init__(status, code)
        self.order_id = order_id


@dataclass
class SplitCheckoutRequired(Exception):
    """A cart-wide checkout whose lines are paid to more than one merchant."""

    pages: list[PageDTO] = field(default_factory=list)

    status = 409
    code = ErrorCode.SPLIT_CHECKOUT_REQUIRED
    message = message_of(ErrorCode.SPLIT_CHECKOUT_REQUIRED)
