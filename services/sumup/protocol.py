"""What the checkout code needs from a payment gateway; SumUpClient is the real one."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from services.sumup.types import SumUpCheckout, SumUpCredentials, SumUpTransaction


class PaymentGateway(Protocol):
    """Hosted checkouts: create, read, find by reference, deactivate; refund, look up."""

    async def create_checkout(
        self,
        *,
        credentials: SumUpCredentials,
        reference: str,
        amount: Decimal,
        currency: str,
        description: str,
        return_url: str,
        redirect_url: str | None = None,
        valid_until: datetime | None = None,
    ) -> SumUpCheckout:
        """Create a hosted checkout for `amount` under our unique `reference`."""
        ...

    async def get_checkout(
        self, *, credentials: SumUpCredentials, checkout_id: str
    ) -> SumUpCheckout:
        """Fetch one checkout as SumUp sees it now."""
        ...

    async def list_checkouts(
        self, *, credentials: SumUpCredentials, reference: str
    ) -> list[SumUpCheckout]:
        """Find the checkouts created with `reference` (empty when there is none)."""
        ...

    async def deactivate_checkout(
        self, *, credentials: SumUpCredentials, checkout_id: str
    ) -> SumUpCheckout:
        """Deactivate an unpaid checkout; SumUp answers it with status EXPIRED."""
        ...

    async def refund(
        self,
        *,
        credentials: SumUpCredentials,
        transaction_id: str,
        amount: Decimal | None = None,
    ) -> None:
        """Refund a transaction in full, or `amount` of it."""
        ...

    async def get_transaction(
        self,
        *,
        credentials: SumUpCredentials,
        transaction_id: str | None = None,
        transaction_code: str | None = None,
    ) -> SumUpTransaction:
        """Fetch one transaction (by id, or by code) with the refunds made on it."""
        ...
