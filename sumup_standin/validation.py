"""Validation of a create-checkout request, with the errors SumUp gives for each field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# PY 0.4.0's enum (OAS still has BGN; the SDK dropped it).
CURRENCIES = frozenset(
    {
        "BRL",
        "CHF",
        "CLP",
        "COP",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HRK",
        "HUF",
        "NOK",
        "PLN",
        "RON",
        "SEK",
        "USD",
    }
)
PURPOSES = frozenset({"CHECKOUT", "SETUP_RECURRING_PAYMENT"})
MAX_REFERENCE_LENGTH = 64
REQUIRED = ("checkout_reference", "amount", "currency", "merchant_code")
OPTIONAL_STRINGS = ("description", "return_url", "redirect_url", "customer_id")
VALIDATION_MESSAGE = "Validation error"


@dataclass(frozen=True)
class CreateRequest:
    """A create-checkout request that passed validation."""

    checkout_reference: str
    amount: Decimal
    currency: str
    merchant_code: str
    description: str | None
    return_url: str | None
    redirect_url: str | None
    customer_id: str | None
    purpose: str
    valid_until: datetime | None
    hosted: bool


def validation_error(code: str, param: str) -> dict[str, str]:
    """One item of SumUp's 400 answer."""
    return {"message": VALIDATION_MESSAGE, "error_code": code, "param": param}


def validate_create(body: Any) -> tuple[CreateRequest | None, list[dict[str, str]]]:
    """The request, or the list of what is wrong with it."""
    if not isinstance(body, dict):
        return None, [validation_error("INVALID", "body")]
    errors = [
        validation_error("MISSING", name) for name in REQUIRED if body.get(name) in (None, "")
    ]
    missing = {error["param"] for error in errors}

    def invalid(param: str) -> None:
        errors.append(validation_error("INVALID", param))

    reference = body.get("checkout_reference")
    if "checkout_reference" not in missing and (
        not isinstance(reference, str) or len(reference) > MAX_REFERENCE_LENGTH
    ):
        invalid("checkout_reference")
    amount = body.get("amount")
    if "amount" not in missing and (
        not isinstance(amount, int | float) or isinstance(amount, bool) or not amount > 0
    ):
        invalid("amount")
    if "currency" not in missing and body.get("currency") not in CURRENCIES:
        invalid("currency")
    if "merchant_code" not in missing and not isinstance(body.get("merchant_code"), str):
        invalid("merchant_code")
    for name in OPTIONAL_STRINGS:
        if body.get(name) is not None and not isinstance(body.get(name), str):
            invalid(name)
    purpose = body.get("purpose", "CHECKOUT")
    if purpose not in PURPOSES:
        invalid("purpose")
    valid_until = _parse_datetime(body.get("valid_until"))
    if body.get("valid_until") is not None and valid_until is None:
        invalid("valid_until")
    hosted = body.get("hosted_checkout")
    if hosted is not None and (
        not isinstance(hosted, dict) or not isinstance(hosted.get("enabled"), bool)
    ):
        invalid("hosted_checkout.enabled")
    if errors:
        return None, errors
    return (
        CreateRequest(
            checkout_reference=str(reference),
            amount=Decimal(str(amount)),
            currency=str(body["currency"]),
            merchant_code=str(body["merchant_code"]),
            description=body.get("description"),
            return_url=body.get("return_url"),
            redirect_url=body.get("redirect_url"),
            customer_id=body.get("customer_id"),
            purpose=str(purpose),
            valid_until=valid_until,
            hosted=bool(isinstance(hosted, dict) and hosted.get("enabled")),
        ),
        [],
    )


def _parse_datetime(value: Any) -> datetime | None:
    """An ISO-8601 date-time (naive ones are UTC), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
