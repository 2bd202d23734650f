"""The values the SumUp client takes and returns."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

# A transaction's events (SumUp's TransactionEventType and TransactionEventStatus): only these
# two values matter here, and the others (payouts, chargebacks, new ones) must not fail parsing.
REFUND_EVENT = "REFUND"
FAILED_EVENT = "FAILED"

log = logging.getLogger(__name__)


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


def _transaction_status(value: object) -> object:
    """A known status as TransactionStatus; a status SumUp added since is kept as its text.

    Nothing here depends on a transaction's status being one of ours (settlement reads the
    checkout's own status and transaction id), so a new one must never make a checkout or a
    transaction unreadable: that would leave a paid order unsettled and an open one unexpired.
    """
    if not isinstance(value, str):
        return value
    try:
        return TransactionStatus(value)
    except ValueError:
        _note_unknown_status(value)
        return value


@functools.lru_cache(maxsize=64)
def _note_unknown_status(value: str) -> None:
    """Log each new status once per process (the cache remembers which were logged)."""
    log.warning("SumUp sent a transaction status this service does not know: %r", value)


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


class SumUpCheckoutTransaction(BaseModel):
    """One payment attempt of a checkout (`transactions[]`, SumUp's CheckoutTransaction)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    transaction_code: str | None = None
    amount: Decimal
    currency: str
    status: TransactionStatus | str
    timestamp: datetime | None = None

    @field_validator("status", mode="before")
    @classmethod
    def lenient_status(cls, value: object) -> object:
        """A status SumUp added since is read, not refused."""
        return _transaction_status(value)

    @field_validator("amount", mode="before")
    @classmethod
    def parse_amount(cls, value: object) -> Decimal:
        """Read the amount exactly as written in the JSON."""
        return _decimal(value)


class SumUpTransactionEvent(BaseModel):
    """One event in a transaction's history: a refund, a payout, a chargeback."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # SumUp's event ids are int64, apart from the transaction's UUID.
    id: int | str | None = None
    # `events` items call it `type`, `transaction_events` items `event_type`.
    type: str | None = Field(default=None, validation_alias=AliasChoices("type", "event_type"))
    status: str | None = None
    amount: Decimal | None = None
    timestamp: datetime | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def parse_amount(cls, value: object) -> Decimal | None:
        """Read the amount exactly as written in the JSON."""
        return None if value is None else _decimal(value)

    @property
    def is_refund(self) -> bool:
        """Money given back to the payer."""
        return self.type == REFUND_EVENT

    @property
    def is_failed(self) -> bool:
        """The event did not happen (a refund that failed gave nothing back)."""
        return self.status == FAILED_EVENT


class SumUpTransaction(BaseModel):
    """A transaction as SumUp's lookup returns it (TransactionFull), with its refunds.

    Its `status` reads REFUNDED once refunded in full or in part, so what was refunded is
    told by its REFUND events, not by the status.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    transaction_code: str | None = None
    amount: Decimal
    currency: str
    status: TransactionStatus | str
    # SumUp's merchant-facing outcome (SUCCESSFUL, REFUNDED, PAID_OUT, CHARGEBACK...).
    simple_status: str | None = None
    merchant_code: str | None = None
    timestamp: datetime | None = None
    events: list[SumUpTransactionEvent] = []
    transaction_events: list[SumUpTransactionEvent] = []

    @field_validator("status", mode="before")
    @classmethod
    def lenient_status(cls, value: object) -> object:
        """A status SumUp added since is read, not refused."""
        return _transaction_status(value)

    @field_validator("amount", mode="before")
    @classmethod
    def parse_amount(cls, value: object) -> Decimal:
        """Read the amount exactly as written in the JSON."""
        return _decimal(value)

    @model_validator(mode="after")
    def refunds_have_amounts(self) -> SumUpTransaction:
        """A refund without an amount cannot say what was refunded: refuse the body."""
        if any(event.amount is None for event in self.refunds):
            raise ValueError("a refund event has no amount")
        return self

    @property
    def refunds(self) -> list[SumUpTransactionEvent]:
        """Its REFUND events, failed ones included, in SumUp's order."""
        # SumUp lists each event in `events` and again in `transaction_events`: read the first
        # list that has refunds, so that none counts twice.
        for listed in (self.events, self.transaction_events):
            refunds = [event for event in listed if event.is_refund]
            if refunds:
                return refunds
        return []

    @property
    def refunded_amount(self) -> Decimal:
        """What its refunds gave back so far (a failed refund gave nothing)."""
        return sum(
            (event.amount or Decimal("0") for event in self.refunds if not event.is_failed),
            Decimal("0"),
        )

    @property
    def refundable_amount(self) -> Decimal:
        """What is left of its amount after its refunds."""
        return self.amount - self.refunded_amount


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
    transactions: list[SumUpCheckoutTransaction] = []

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
