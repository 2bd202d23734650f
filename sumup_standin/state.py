"""The stand-in's state and the operations that change a checkout's status."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from quart import current_app

from sumup_standin import errors
from sumup_standin.clock import Clock
from sumup_standin.faults import Faults
from sumup_standin.holds import Holds
from sumup_standin.serialize import (
    checkout_json,
    format_date,
    refund_json,
    transaction_full_json,
    transaction_json,
)
from sumup_standin.store import (
    EXPIRED,
    FAILED,
    PAID,
    REFUNDED,
    SUCCESSFUL,
    Checkout,
    Refund,
    Store,
    Transaction,
)
from sumup_standin.validation import CreateRequest
from sumup_standin.webhooks import WebhookDispatcher

EXTENSION_KEY = "sumup_standin"
# The SumUp sandbox fails checkouts for these amounts (reference §6).
AUTO_FAIL_AMOUNTS = frozenset(Decimal(amount) for amount in ("11.00", "42.01", "42.76", "42.91"))


class Standin:
    """One stand-in's memory, clock, fault switches and webhook dispatcher."""

    def __init__(
        self,
        *,
        public_base: str,
        webhook_delay_scale: float,
        session_minutes: int,
        clock: Callable[[], datetime] | None,
    ) -> None:
        self.public_base = public_base.rstrip("/")
        self.session_minutes = session_minutes
        self.clock = Clock(clock)
        self.store = Store()
        self.faults = Faults()
        self.webhooks = WebhookDispatcher(faults=self.faults, delay_scale=webhook_delay_scale)
        self.holds = Holds()
        self._later: set[asyncio.Task[None]] = set()

    async def reset(self) -> None:
        """Back to a fresh stand-in: no checkouts, faults, deliveries, held calls, refunds
        still to come or clock offset."""
        await self.webhooks.reset()
        self.holds.release_all()
        later = list(self._later)
        for task in later:
            task.cancel()
        for task in later:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with self.store.lock:
            self.store.reset()
            self.faults.clear()
            self.clock.reset()

    def create_checkout(self, request: CreateRequest, *, api_key: str) -> Checkout:
        """Record a new checkout (the caller holds the lock and has checked for duplicates)."""
        checkout = Checkout(
            id=str(uuid.uuid4()),
            checkout_reference=request.checkout_reference,
            amount=request.amount,
            currency=request.currency,
            merchant_code=request.merchant_code,
            created_at=self.clock.now(),
            description=request.description,
            return_url=request.return_url,
            redirect_url=request.redirect_url,
            purpose=request.purpose,
            customer_id=request.customer_id,
            valid_until=request.valid_until,
            hosted=request.hosted,
        )
        self.store.add_checkout(checkout, api_key=api_key)
        return checkout

    def view(self, checkout: Checkout) -> dict[str, Any]:
        """The checkout as SumUp's API shows it now (the status_lag switch may hold it back)."""
        if checkout.lagged_view is not None and checkout.lag_remaining > 0:
            checkout.lag_remaining -= 1
            return checkout.lagged_view
        body = self._public_json(
            checkout, omit_transaction_fields=bool(self.faults.take("omit_transaction_fields"))
        )
        status = self.faults.take("transaction_status")
        if status:
            for txn in body["transactions"]:
                txn["status"] = status
        return body

    def internal_view(self, checkout: Checkout) -> dict[str, Any]:
        """The checkout with what only the stand-in knows, for the control API."""
        body = self._public_json(checkout)
        body["transactions"] = [
            {
                **transaction_json(txn),
                "refunded_amount": float(txn.refunded_amount),
                "refunds": [refund_json(refund) for refund in txn.refunds],
            }
            for txn in checkout.transactions
        ]
        body["standin"] = {
            "created_at": format_date(checkout.created_at),
            "session_expires_at": format_date(self.session_end(checkout)),
            "session_expired": self.session_expired(checkout),
            "lag_remaining": checkout.lag_remaining,
        }
        return body

    def transaction_view(
        self, checkout: Checkout, txn: Transaction, *, lagging: bool = True
    ) -> dict[str, Any]:
        """A transaction as SumUp's transaction lookup shows it, refunds included (the
        transaction_lag switch may leave its latest refunds out)."""
        if lagging and txn.lag_remaining > 0 and txn.lagging_refunds > 0:
            txn.lag_remaining -= 1
            shown = txn.refunds[: len(txn.refunds) - txn.lagging_refunds]
            txn = dataclasses.replace(txn, refunds=shown, status=REFUNDED if shown else SUCCESSFUL)
        return transaction_full_json(txn, checkout=checkout, public_base=self.public_base)

    def internal_transaction_view(self, checkout: Checkout, txn: Transaction) -> dict[str, Any]:
        """The lookup's view of a transaction, with what only the stand-in knows."""
        body = self.transaction_view(checkout, txn, lagging=False)
        body["standin"] = {
            "checkout_id": checkout.id,
            "refunded_amount": float(txn.refunded_amount),
            "refundable_amount": float(txn.refundable_amount),
            "refunds": [refund_json(refund) for refund in txn.refunds],
        }
        return body

    def session_end(self, checkout: Checkout) -> datetime:
        """When the hosted page stops taking payments."""
        end = checkout.created_at + timedelta(minutes=self.session_minutes)
        return min(end, checkout.valid_until) if checkout.valid_until else end

    def session_expired(self, checkout: Checkout) -> bool:
        """The hosted page shows "expired": deactivated, or its session is over."""
        return checkout.status == EXPIRED or self.clock.now() >= self.session_end(checkout)

    async def pay(self, checkout_id: str) -> Checkout:
        """The shopper pays; the sandbox's failing amounts fail instead."""
        async with self.store.lock:
            checkout = self._payable_or_raise(checkout_id)
            if checkout.amount in AUTO_FAIL_AMOUNTS:
                return self._fail_locked(checkout)
            before = self._public_json(checkout)
            txn = self.store.new_transaction(checkout, status=SUCCESSFUL, now=self.clock.now())
            checkout.status = PAID
            checkout.transaction_code = txn.transaction_code
            checkout.transaction_id = txn.id
            lag = self.faults.take("status_lag")
            if lag:
                checkout.lagged_view, checkout.lag_remaining = before, int(lag)
            self._changed(checkout)
            return checkout

    async def fail(self, checkout_id: str) -> Checkout:
        """The shopper's payment attempt fails; the checkout can still be paid later."""
        async with self.store.lock:
            return self._fail_locked(self._payable_or_raise(checkout_id))

    async def expire(self, checkout_id: str, *, api_key: str | None = None) -> Checkout:
        """Deactivate a checkout (API DELETE with `api_key`, or the control API without)."""
        async with self.store.lock:
            checkout = self.get_checkout_or_raise(checkout_id, api_key=api_key)
            if checkout.status == PAID:
                raise errors.already_processed()
            if checkout.status != EXPIRED:
                checkout.status = EXPIRED
                checkout.lagged_view, checkout.lag_remaining = None, 0
                self._changed(checkout)
            return checkout

    async def refund(
        self,
        *,
        api_key: str,
        transaction_id: str,
        amount: Decimal | None,
        merchant_code: str | None = None,
    ) -> Refund:
        """Refund a paid transaction in full (what is left) or in part; it becomes REFUNDED.

        Under the store's lock, so refunds racing on one transaction never give back more
        than it took.
        """
        async with self.store.lock:
            found = self.store.visible_transaction(api_key, transaction_id)
            if found is None or merchant_code not in (None, found[1].merchant_code):
                raise errors.not_found()
            _, txn = found
            left = txn.refundable_amount
            if txn.status not in (SUCCESSFUL, REFUNDED) or left <= 0:
                raise errors.not_refundable()
            wanted = left if amount is None else amount
            if wanted <= 0:
                raise errors.not_refundable()
            if wanted > left:
                raise errors.RefundTooHigh(left)
            refund = self.store.new_refund(txn, amount=wanted, now=self.clock.now())
            lag = self.faults.take("transaction_lag")
            if lag:
                txn.lagging_refunds = (txn.lagging_refunds if txn.lag_remaining else 0) + 1
                txn.lag_remaining = int(lag)
            return refund

    def refund_later(
        self,
        seconds: float,
        *,
        api_key: str,
        transaction_id: str,
        amount: Decimal | None,
        merchant_code: str | None = None,
    ) -> None:
        """Make a refund `seconds` from now, as SumUp may after answering 5xx; a refund it
        would refuse then is not made."""

        async def later() -> None:
            await asyncio.sleep(seconds)
            with contextlib.suppress(errors.StandinError):
                await self.refund(
                    api_key=api_key,
                    transaction_id=transaction_id,
                    amount=amount,
                    merchant_code=merchant_code,
                )

        task = asyncio.get_running_loop().create_task(later())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    def _public_json(
        self, checkout: Checkout, *, omit_transaction_fields: bool = False
    ) -> dict[str, Any]:
        """The API body of a checkout as it is right now."""
        return checkout_json(
            checkout,
            merchant=self.store.merchant(checkout.merchant_code),
            public_base=self.public_base,
            omit_transaction_fields=omit_transaction_fields,
        )

    def _fail_locked(self, checkout: Checkout) -> Checkout:
        """Append a FAILED attempt (the caller holds the lock)."""
        self.store.new_transaction(checkout, status=FAILED, now=self.clock.now())
        if checkout.status != FAILED:
            checkout.status = FAILED
            self._changed(checkout)
        return checkout

    def _changed(self, checkout: Checkout) -> None:
        """Tell the checkout's `return_url` that its status changed."""
        self.webhooks.notify(
            checkout_id=checkout.id, url=checkout.return_url, status=checkout.status
        )

    def get_checkout_or_raise(self, checkout_id: str, *, api_key: str | None = None) -> Checkout:
        """A checkout by id (one `api_key` may see, when given), or the 404 error."""
        if api_key is None:
            checkout = self.store.checkouts.get(checkout_id)
        else:
            checkout = self.store.visible_checkout(api_key, checkout_id)
        if checkout is None:
            raise errors.not_found()
        return checkout

    def _payable_or_raise(self, checkout_id: str) -> Checkout:
        """A checkout that can still take a payment attempt, or SumUp's 404 or 409."""
        checkout = self.get_checkout_or_raise(checkout_id)
        if checkout.status == PAID:
            raise errors.already_processed()
        if checkout.status == EXPIRED:
            raise errors.session_expired()
        return checkout


def current_standin() -> Standin:
    """The stand-in of the app serving this request."""
    return cast(Standin, current_app.extensions[EXTENSION_KEY])
