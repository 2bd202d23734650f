"""Money: Decimal with two places everywhere, and how a shopper reads it ("£4.50").

Money becomes a float only in the SumUp payload (services/sumup/client.py) and a string in JSON
(`amount_text`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€"}


def cents(amount: Decimal) -> Decimal:
    """The amount with exactly two places."""
    return amount.quantize(CENT)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of some amounts, with two places (zero for none)."""
    return cents(sum(amounts, ZERO))


def amount_text(amount: Decimal) -> str:
    """Money in JSON and in activities: a string with two places, "12.50"."""
    return f"{cents(amount):.2f}"


def format_money(amount: Decimal | int | str | None, currency: str) -> str:
    """Format an amount with its currency's symbol (or its code), two places, thousands commas."""
    if amount is None:
        return ""
    if isinstance(amount, float | bool):
        raise TypeError("money is a Decimal, never a float")
    value = amount if isinstance(amount, Decimal) else Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {value}")
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    code = (currency or "").strip().upper()
    digits = f"{abs(value):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    text = f"{symbol}{digits}" if symbol else f"{code} {digits}".strip()
    return f"-{text}" if value < 0 else text
