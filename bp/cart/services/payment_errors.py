"""The expected failures of checkout and settlement, as ServiceErrors a person can read."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.errors import ServiceError
from services.contracts.dtos import PageDTO


class PaymentProviderUnavailable(ServiceError):
    """SumUp could not be reached or answered with a failure we cannot act on (retry later)."""

    def __init__(
        self,
        message: str = "We could not reach our payment provider. Please try again in a minute.",
    ) -> None:
        super().__init__(503, "PAYMENT_PROVIDER_UNAVAILABLE", message)


class MerchantNotConfigured(ServiceError):
    """A page (or the whole site) has no SumUp merchant to be paid to."""

    def __init__(self, page_title: str | None = None) -> None:
        where = f"“{page_title}”" if page_title else "This shop"
        super().__init__(
            409,
            "PAYMENTS_NOT_CONFIGURED",
            f"{where} cannot take card payments yet. Nothing was charged; "
            "please contact the coop or try again later.",
        )


class HoldEnded(ServiceError):
    """The order held its tickets and places as long as an order may; they were released."""

    def __init__(self, order_id: int) -> None:
        super().__init__(
            409,
            "HOLD_ENDED",
            f"Order #{order_id} held its items for as long as an order may, so it was closed "
            "and its tickets and places were released for others. Nothing was charged, and "
            "everything is back in your cart: check out again to order what is still available.",
        )


class CheckoutStartFailed(ServiceError):
    """The order is saved but SumUp's hosted checkout could not be created; it can be retried."""

    def __init__(self, order_id: int, message: str, status: int = 503) -> None:
        super().__init__(status, "CHECKOUT_START_FAILED", message)
        self.order_id = order_id


@dataclass
class SplitCheckoutRequired(Exception):
    """A cart-wide checkout whose lines are paid to more than one merchant."""

    pages: list[PageDTO] = field(default_factory=list)

    status = 409
    code = "SPLIT_CHECKOUT_REQUIRED"
    message = (
        "The items in your cart are sold by different shops that are each paid separately. "
        "Please check out each page's cart on its own."
    )
