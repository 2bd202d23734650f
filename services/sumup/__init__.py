"""SumUp Hosted Checkout: the client, its values, its error, and the gateway protocol."""

from __future__ import annotations

from services.sumup.client import (
    MAX_REFERENCE_LENGTH,
    SumUpClient,
    open_session,
    to_sumup_amount,
)
from services.sumup.errors import SumUpError
from services.sumup.ids import is_checkout_id
from services.sumup.lookup import checkout_of_reference
from services.sumup.protocol import PaymentGateway
from services.sumup.types import (
    CheckoutStatus,
    SumUpCheckout,
    SumUpCheckoutTransaction,
    SumUpCredentials,
    SumUpTransaction,
    SumUpTransactionEvent,
    SumUpTransactionRef,
    TransactionStatus,
)

__all__ = [
    "MAX_REFERENCE_LENGTH",
    "CheckoutStatus",
    "PaymentGateway",
    "SumUpCheckout",
    "SumUpCheckoutTransaction",
    "SumUpClient",
    "SumUpCredentials",
    "SumUpError",
    "SumUpTransaction",
    "SumUpTransactionEvent",
    "SumUpTransactionRef",
    "TransactionStatus",
    "checkout_of_reference",
    "is_checkout_id",
    "open_session",
    "to_sumup_amount",
]
