"""Money as a shopper reads it: "£4.50", "€12.00", "USD 3.10"; from Decimal, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€"}


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
