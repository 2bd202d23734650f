"""Money: Decimal with two places everywhere, and how a shopper reads it ("£4.50").

Money becomes a float only in the SumUp payload (services/sumup/client.py) and a string in JSON
(`amount_text`). People read it through `format_money`, in the coop's locale (Babel's currency
formats: "£1,234.50" in en_GB, "1.234,50 €" in de_DE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal, get_decimal_symbol, get_group_symbol

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The currencies the shop sells in (config.settings.Currency); anything else, e.g. an old order
# in another currency, is shown with its ISO code.
SUPPORTED_CURRENCIES = ("GBP", "EUR")
DEFAULT_LOCALE = "en_GB"
# Formatted amounts remembered (per worker; a bounded cache, so memory stays flat).
FORMATTED_AMOUNTS = 4096
# Amounts Babel's text is compared with before its shape is used without Babel: every count of
# digits a group separator could come in, both signs, and zero of each sign.
_PROBE = Decimal("1234567.89")
_SAMPLES = tuple(
    Decimal(text) * sign
    for text in (
        "0",
        "0.01",
        "0.5",
        "9.99",
        "10",
        "999.99",
        "1000",
        "1234.5",
        "99999.99",
        "100000",
        "999999.99",
        "1000000",
        "12345678.9",
        "123456789.01",
    )
    for sign in (1, -1)
)


def cents(amount: Decimal) -> Decimal:
    """The amount with exactly two places."""
    return amount.quantize(CENT)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of some amounts, with two places (zero for none)."""
    return cents(sum(amounts, ZERO))


def amount_text(amount: Decimal) -> str:
    """Money in JSON and in activities: a string with two places, "12.50"."""
    return f"{cents(amount):.2f}"


def format_money(
    amount: Decimal | int | str | None, currency: str, *, locale: str = DEFAULT_LOCALE
) -> str:
    """An amount as a person reads it in `locale`: its currency's symbol and the locale's
    separators, two places, rounded half up (as the order's pennies are)."""
    if type(amount) is Decimal and amount.is_finite():
        # The common case (a page shows a few dozen amounts): one lookup, keyed by the amount's
        # value and sign, which decide its rounded text (Decimal("4.5") and Decimal("4.50") are
        # one key and one text; -0 is kept apart from 0, as Babel writes "-£0.00").
        return _formatted_decimal(amount, amount.is_signed(), currency, locale)
    if amount is None:
        return ""
    if isinstance(amount, float | bool):
        raise TypeError("money is a Decimal, never a float")
    value = amount if isinstance(amount, Decimal) else Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {value}")
    # Babel would round half to even; money here rounds half up, before Babel sees it.
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return _formatted(str(value), (currency or "").strip().upper(), locale)


@lru_cache(maxsize=FORMATTED_AMOUNTS)
def _formatted_decimal(amount: Decimal, _signed: bool, currency: str, locale: str) -> str:
    """`format_money` of a finite Decimal, remembered whole: rounding, the currency's code and
    Babel's formatting cost more than a lookup, for the same few prices again and again."""
    value = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return _formatted(str(value), (currency or "").strip().upper(), locale)


@lru_cache(maxsize=FORMATTED_AMOUNTS)
def _formatted(amount: str, code: str, locale: str) -> str:
    """Babel's formatting of a rounded amount, remembered: a page shows the same few prices
    again and again, and Babel takes longer than the rest of the page's money."""
    value = Decimal(amount)
    if code in SUPPORTED_CURRENCIES:
        fast = _currency_format(code, locale)
        return fast(value) if fast else str(format_currency(value, code, locale=locale))
    digits = format_decimal(abs(value), format="#,##0.00", locale=locale)
    text = f"{code} {digits}".strip()
    return f"-{text}" if value < 0 else text


@lru_cache(maxsize=16)
def _currency_format(code: str, locale: str) -> Callable[[Decimal], str] | None:
    """Babel's currency format for `code` in `locale` as a few string operations, or None
    where it is not that simple (then Babel formats each amount).

    Babel takes about 30 µs an amount, paid at each total a shopper has not been shown before.
    The shape (symbol and sign around the digits, the locale's separators, groups of three) is
    read from Babel's own text of one amount, and used only if it gives Babel's text for every
    sample: a locale that writes amounts otherwise (en_IN's groups of two, de_CH) keeps Babel."""
    group = get_group_symbol(locale)
    point = get_decimal_symbol(locale)
    separators = str.maketrans({",": group, ".": point})
    digits = f"{_PROBE:,.2f}".translate(separators)
    shapes = []
    for probe in (_PROBE, -_PROBE):
        text = str(format_currency(probe, code, locale=locale))
        if text.count(digits) != 1:
            return None
        shapes.append(text.split(digits))
    (prefix, suffix), (minus_prefix, minus_suffix) = shapes

    def formatted(value: Decimal) -> str:
        number = f"{abs(value):,.2f}".translate(separators)
        if value.is_signed():
            return f"{minus_prefix}{number}{minus_suffix}"
        return f"{prefix}{number}{suffix}"

    for sample in _SAMPLES:
        if formatted(sample.quantize(CENT)) != format_currency(sample, code, locale=locale):
            return None
    return formatted
