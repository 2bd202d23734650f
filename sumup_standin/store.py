"""The stand-in's memory: merchants, checkouts, their transactions and those refunds."""

from __future__ import annotations

import asyncio
import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

PENDING = "PENDING"
PAID = "PAID"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
SUCCESSFUL = "SUCCESSFUL"
REFUNDED = "REFUNDED"

TRANSACTION_CODE_ALPHABET = string.ascii_uppercase + string.digits
TRANSACTION_CODE_LENGTH = 10
DEFAULT_MERCHANT_COUNTRY = "DE"


@dataclass
class Merchant:
    """A SumUp merchant account as the stand-in knows it."""

    code: str
    name: str
    country: str = DEFAULT_MERCHANT_COUNTRY
    disabled: bool = False


@dataclass
class Refund:
    """Money returned on a transaction: a REFUND event of it, as SumUp lists them."""

    id: int  # SumUp's transaction event ids are int64, apart from the transaction's UUID
    amount: Decimal
    timestamp: datetime
    status: str = REFUNDED  # the status SumUp gives a refund event once it is accepted


@dataclass
class Transaction:
    """One payment attempt on a checkout, with the refunds made on it."""

    id: str
    transaction_code: str
    amount: Decimal
    currency: str
    merchant_code: str
    status: str
    timestamp: datetime
    internal_id: int
    auth_code: str
    refunds: list[Refund] = field(default_factory=list)
    # transaction_lag: how many of its latest refunds the lookup leaves out, for how many more
    # lookups.
    lagging_refunds: int = 0
    lag_remaining: int = 0

    @property
    def refunded_amount(self) -> Decimal:
        """What the refunds gave back so far."""
        return sum((refund.amount for refund in self.refunds), Decimal("0"))

    @property
    def refundable_amount(self) -> Decimal:
        """What is left to refund."""
        return self.amount - self.refunded_amount


@dataclass
class Checkout:
    """A checkout and what happened to it."""

    id: str
    checkout_reference: str
    amount: Decimal
    currency: str
    merchant_code: str
    created_at: datetime
    description: str | None = None
    return_url: str | None = None
    redirect_url: str | None = None
    purpose: str = "CHECKOUT"
    customer_id: str | None = None
    valid_until: datetime | None = None
    hosted: bool = False
    status: str = PENDING
    transactions: list[Transaction] = field(default_factory=list)
    transaction_code: str | None = None
    transaction_id: str | None = None
    # status_lag: what the API keeps showing, and for how many more GETs.
    lagged_view: dict[str, Any] | None = None
    lag_remaining: int = 0


class Store:
    """Everything the stand-in holds; mutate it only while holding `lock`."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.checkouts: dict[str, Checkout] = {}
        self.merchants: dict[str, Merchant] = {}
        self.revoked_keys: set[str] = set()
        # A key sees the checkouts of the merchants it created checkouts for, so that reading
        # another merchant's checkout answers 404, as SumUp does.
        self.key_merchants: dict[str, set[str]] = {}
        # Each checkout by (merchant, reference), which a merchant's checkouts never share:
        # every create looks for a duplicate, and a run of thousands should not scan them all.
        self._by_reference: dict[tuple[str, str], Checkout] = {}
        self._next_internal_id = 1
        self._next_event_id = 1

    def reset(self) -> None:
        """Forget everything."""
        self.checkouts.clear()
        self._by_reference.clear()
        self.merchants.clear()
        self.revoked_keys.clear()
        self.key_merchants.clear()
        self._next_internal_id = 1
        self._next_event_id = 1

    def merchant(self, code: str) -> Merchant:
        """The merchant with this code; any code is a valid sandbox merchant."""
        merchant = self.merchants.get(code)
        if merchant is None:
            merchant = Merchant(code=code, name=f"Sandbox merchant {code}")
            self.merchants[code] = merchant
        return merchant

    def add_checkout(self, checkout: Checkout, *, api_key: str) -> None:
        """Keep a new checkout and let `api_key` see its merchant's checkouts."""
        self.checkouts[checkout.id] = checkout
        self._by_reference[checkout.merchant_code, checkout.checkout_reference] = checkout
        self.key_merchants.setdefault(api_key, set()).add(checkout.merchant_code)

    def find_by_reference(self, merchant_code: str, reference: str) -> Checkout | None:
        """The checkout of this merchant with this reference, whatever its status."""
        return self._by_reference.get((merchant_code, reference))

    def visible(self, api_key: str) -> list[Checkout]:
        """The checkouts this key may read, oldest first."""
        merchants = self.key_merchants.get(api_key, set())
        return [c for c in self.checkouts.values() if c.merchant_code in merchants]

    def visible_checkout(self, api_key: str, checkout_id: str) -> Checkout | None:
        """One checkout, if this key may read it."""
        checkout = self.checkouts.get(checkout_id)
        if checkout is None or checkout.merchant_code not in self.key_merchants.get(api_key, ()):
            return None
        return checkout

    def visible_transaction(
        self, api_key: str, transaction_id: str
    ) -> tuple[Checkout, Transaction] | None:
        """A transaction by its id, with its checkout, if this key may read it."""
        for checkout in self.visible(api_key):
            for txn in checkout.transactions:
                if txn.id == transaction_id:
                    return checkout, txn
        return None

    def visible_transactions(
        self, api_key: str, merchant_code: str
    ) -> list[tuple[Checkout, Transaction]]:
        """Every transaction of this merchant, with its checkout, if this key may read them."""
        if merchant_code not in self.key_merchants.get(api_key, ()):
            return []
        return [
            (checkout, txn)
            for checkout in self.checkouts.values()
            if checkout.merchant_code == merchant_code
            for txn in checkout.transactions
        ]

    def find_transaction(self, transaction_id: str) -> tuple[Checkout, Transaction] | None:
        """A transaction by its id, with its checkout, whoever may read it (control API)."""
        for checkout in self.checkouts.values():
            for txn in checkout.transactions:
                if txn.id == transaction_id:
                    return checkout, txn
        return None

    def new_refund(self, txn: Transaction, *, amount: Decimal, now: datetime) -> Refund:
        """Record a refund on a transaction (the caller checked that it is refundable)."""
        refund = Refund(id=self._next_event_id, amount=amount, timestamp=now)
        self._next_event_id += 1
        txn.refunds.append(refund)
        txn.status = REFUNDED
        return refund

    def new_transaction(self, checkout: Checkout, *, status: str, now: datetime) -> Transaction:
        """Append a payment attempt to a checkout."""
        txn = Transaction(
            id=str(uuid.uuid4()),
            transaction_code="".join(
                secrets.choice(TRANSACTION_CODE_ALPHABET) for _ in range(TRANSACTION_CODE_LENGTH)
            ),
            amount=checkout.amount,
            currency=checkout.currency,
            merchant_code=checkout.merchant_code,
            status=status,
            timestamp=now,
            internal_id=self._next_internal_id,
            auth_code=f"{secrets.randbelow(1_000_000):06d}",
        )
        self._next_internal_id += 1
        checkout.transactions.append(txn)
        return txn
