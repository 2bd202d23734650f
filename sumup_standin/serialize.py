"""The JSON shapes SumUp answers with, built from the stand-in's records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sumup_standin.store import Checkout, Merchant, Transaction


def format_date(moment: datetime) -> str:
    """A checkout `date`: milliseconds and `+00:00`, as real SumUp responses have."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def format_timestamp(moment: datetime) -> str:
    """A transaction `timestamp`: milliseconds and `Z`, as in SumUp's examples."""
    return format_date(moment).replace("+00:00", "Z")


def transaction_json(txn: Transaction) -> dict[str, Any]:
    """One `transactions[]` item (CheckoutTransaction)."""
    return {
        "id": txn.id,
        "transaction_code": txn.transaction_code,
        "amount": float(txn.amount),
        "currency": txn.currency,
        "timestamp": format_timestamp(txn.timestamp),
        "status": txn.status,
        "payment_type": "ECOM",
        "installments_count": 1,
        "merchant_code": txn.merchant_code,
        "vat_amount": 0.0,
        "tip_amount": 0.0,
        "entry_mode": "CUSTOMER_ENTRY",
        "auth_code": txn.auth_code,
        "internal_id": txn.internal_id,
    }


def checkout_json(
    checkout: Checkout,
    *,
    merchant: Merchant,
    public_base: str,
    omit_transaction_fields: bool = False,
) -> dict[str, Any]:
    """A Checkout/CheckoutSuccess body, with the untyped extras real responses carry."""
    body: dict[str, Any] = {
        "id": checkout.id,
        "checkout_reference": checkout.checkout_reference,
        "amount": float(checkout.amount),
        "currency": checkout.currency,
        "merchant_code": checkout.merchant_code,
        "merchant_name": merchant.name,
        "merchant_country": merchant.country,
        "merchant_sandbox": True,
        "purpose": checkout.purpose,
        "checkout_type": "checkout",
        "status": checkout.status,
        "date": format_date(checkout.created_at),
        "transactions": [transaction_json(txn) for txn in checkout.transactions],
    }
    optional = {
        "description": checkout.description,
        "return_url": checkout.return_url,
        "redirect_url": checkout.redirect_url,
        "customer_id": checkout.customer_id,
        "valid_until": format_date(checkout.valid_until) if checkout.valid_until else None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if checkout.hosted:
        body["hosted_checkout"] = {"enabled": True}
        body["hosted_checkout_url"] = f"{public_base}/pay/c-{checkout.id}"
    if not omit_transaction_fields:
        if checkout.transaction_code:
            body["transaction_code"] = checkout.transaction_code
        if checkout.transaction_id:
            body["transaction_id"] = checkout.transaction_id
    return body
