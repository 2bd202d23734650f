"""SumUp Hosted Checkout: the client, its values, its error, and the gateway protocol."""

from __future__ import annotations

from services.sumup.client import MAX_REFERENCE_LENGTH, SumUpClient, to_sumup_amount
from services.sumup.errors import SumUpError
from services.sumup.protocol import PaymentGateway
from services.sumup.types import (
    CheckoutStatus,
    SumUpCheckout,
    SumUpCredentials,
    SumUpTransaction,
    SumUpTransactionRef,
    TransactionStatus,
)

__all__ = [
    "MAX_REFERENCE_LENGTH",
    "CheckoutStatus",
    "PaymentGateway",
    "SumUpCheckout",
    "SumUpClient",
    "SumUpCredentials",
    "SumUpError",
    "SumUpTransaction",
    "SumUpTransactionRef",
    "TransactionStatus",
    "to_sumup_amount",
]
