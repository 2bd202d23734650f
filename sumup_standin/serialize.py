"""The JSON shapes SumUp answers with, built from the stand-in's records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sumup_standin.store import (
    FAILED,
    REFUNDED,
    SUCCESSFUL,
    Checkout,
    Merchant,
    Refund,
    Transaction,
)

# The transaction lookup (GET /v2.1/merchants/{code}/transactions) answers SumUp's
# TransactionFull, whose field names follow SumUp's SDKs generated from its OpenAPI spec
# (sumup-go `transactions.TransactionFull`, `Event`, `TransactionEvent`, `LinkRefund`) and
# developer.sumup.com's schema pages (TransactionStatus: REFUNDED is "refunded in full or in
# part"; TransactionEventStatus: a refund event reads REFUNDED once accepted). A refund shows
# twice, as SumUp lists it: in `events` (`type`) and in `transaction_events` (`event_type`).
REFUND_EVENT = "REFUND"
REFUND_LINK = "refund"
SIMPLE_STATUSES = {SUCCESSFUL: "SUCCESSFUL", REFUNDED: "REFUNDED", FAILED: "FAILED"}


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


def refund_json(refund: Refund) -> dict[str, Any]:
    """One refund as the control API shows it."""
    return {
        "id": refund.id,
        "amount": float(refund.amount),
        "timestamp": format_timestamp(refund.timestamp),
        "status": refund.status,
    }


def transaction_full_json(
    txn: Transaction, *, checkout: Checkout, public_base: str
) -> dict[str, Any]:
    """A TransactionFull body, with each refund in `events` and `transaction_events`."""
    body: dict[str, Any] = {
        **transaction_json(txn),
        "simple_status": SIMPLE_STATUSES.get(txn.status, txn.status),
        "events": [_event_json(txn, refund) for refund in txn.refunds],
        "transaction_events": [_transaction_event_json(refund) for refund in txn.refunds],
        "links": [],
    }
    if checkout.description is not None:
        body["product_summary"] = checkout.description
    if txn.status in (SUCCESSFUL, REFUNDED) and txn.refundable_amount > 0:
        body["links"].append(
            {
                "rel": REFUND_LINK,
                "href": (
                    f"{public_base}/v1.0/merchants/{txn.merchant_code}/payments/{txn.id}/refunds"
                ),
                "type": "application/json",
                "max_amount": float(txn.refundable_amount),
            }
        )
    return body


def _event_json(txn: Transaction, refund: Refund) -> dict[str, Any]:
    """A refund in `events` (SumUp's Event)."""
    return {
        "id": refund.id,
        "transaction_id": txn.id,
        "type": REFUND_EVENT,
        "status": refund.status,
        "amount": float(refund.amount),
        "timestamp": format_timestamp(refund.timestamp),
        "fee_amount": 0.0,
    }


def _transaction_event_json(refund: Refund) -> dict[str, Any]:
    """A refund in `transaction_events` (SumUp's TransactionEvent)."""
    return {
        "id": refund.id,
        "event_type": REFUND_EVENT,
        "status": refund.status,
        "amount": float(refund.amount),
        "timestamp": format_timestamp(refund.timestamp),
        "date": refund.timestamp.astimezone(UTC).date().isoformat(),
    }
