"""The values the SumUp client takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator


class CheckoutStatus(StrEnum):
    """A checkout's status as SumUp reports it; FAILED may still become PAID."""

    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


class TransactionStatus(StrEnum):
    """A checkout transaction's status as SumUp reports it."""

    PENDING = "PENDING"
    SUCCESSFUL = "SUCCESSFUL"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class SumUpCredentials:
    """One merchant's API key and code; each coop page may pay to its own merchant."""

    api_key: str = field(repr=False)
    merchant_code: str


@dataclass(frozen=True)
class SumUpTransactionRef:
    """Where a paid checkout's money is: the transaction id (for refunds) and its code."""

    id: str | None
    code: str | None


def _decimal(value: object) -> Decimal:
    """SumUp sends amounts as JSON floats; going through str keeps 10.1 as 10.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


class SumUpTransaction(BaseModel):
    """One payment attempt of a checkout (`transactions[]`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    transaction_code: str | None = None
    amount: Decimal
    currency: str
    status: TransactionStatus
    timestamp: datetime | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def parse_amount(cls, value: object) -> Decimal:
        """Read the amount exactly as written in the JSON."""
        return _decimal(value)


class SumUpCheckout(BaseModel):
    """A checkout as SumUp returns it from create, get, list and deactivate."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    checkout_reference: str
    amount: Decimal
    currency: str
    merchant_code: str
    status: CheckoutStatus
    description: str | None = None
    hosted_checkout_url: str | None = None
    return_url: str | None = None
    redirect_url: str | None = None
    # The list endpoint's examples carry `date`, but nothing promises it, so it may be absent.
    date: datetime | None = None
    valid_until: datetime | None = None
    transaction_code: str | None = None
    transaction_id: str | None = None
    transactions: list[SumUpTransaction] = []

    @field_validator("amount", mode="before")
    @classmethod
    def parse_amount(cls, value: object) -> Decimal:
        """Read the amount exactly as written in the JSON."""
        return _decimal(value)

    def successful_transaction(self) -> SumUpTransactionRef | None:
        """The transaction that paid this checkout, or None when there is none."""
        if self.transaction_id or self.transaction_code:
            match = next(
                (
                    txn
                    for txn in self.transactions
                    if txn.id == self.transaction_id
                    or (self.transaction_code and txn.transaction_code == self.transaction_code)
                ),
                None,
            )
            return SumUpTransactionRef(
                id=self.transaction_id or (match.id if match else None),
                code=self.transaction_code or (match.transaction_code if match else None),
            )
        # The top-level fields are sometimes missing (reference §3, §9.4): fall back to the
        # list, where a refund turns SUCCESSFUL into REFUNDED but the payment still happened.
        for wanted in (TransactionStatus.SUCCESSFUL, TransactionStatus.REFUNDED):
            for txn in self.transactions:
                if txn.status == wanted:
                    return SumUpTransactionRef(id=txn.id, code=txn.transaction_code)
        return None
