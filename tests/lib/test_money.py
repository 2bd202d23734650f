"""Money as a shopper reads it: Decimal in, the amount out; never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from babel.numbers import format_currency

from lib.money import amount_text, cents, format_money, total


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("4.50"), "GBP", "£4.50"),
        (Decimal("4.5"), "GBP", "£4.50"),
        (Decimal("12"), "EUR", "€12.00"),
        (Decimal("3.10"), "USD", "USD 3.10"),
        (Decimal("3.10"), "usd", "USD 3.10"),
        (Decimal("1234.5"), "GBP", "£1,234.50"),
        (Decimal("1234567.89"), "EUR", "€1,234,567.89"),
        (Decimal("0"), "GBP", "£0.00"),
        (Decimal("0.005"), "GBP", "£0.01"),
        (Decimal("0.004"), "GBP", "£0.00"),
        (Decimal("2.675"), "GBP", "£2.68"),
        (Decimal("-4.50"), "GBP", "-£4.50"),
        (7, "GBP", "£7.00"),
        ("4.50", "GBP", "£4.50"),
    ],
)
def test_amounts_read_as_a_shopper_expects(amount: Any, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_no_amount_shows_nothing() -> None:
    assert format_money(None, "GBP") == ""


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        format_money(4.5, "GBP")  # type: ignore[arg-type]


def test_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        format_money(Decimal("NaN"), "GBP")


def test_cents_and_totals_have_two_places() -> None:
    assert str(cents(Decimal("4.5"))) == "4.50"
    assert str(total([Decimal("1.10"), Decimal("2.205")])) == "3.30"
    assert str(total([])) == "0.00"


def test_json_amounts_are_strings_with_two_places() -> None:
    assert amount_text(Decimal("12.5")) == "12.50"
    assert amount_text(Decimal("0")) == "0.00"


def test_money_follows_the_coops_locale() -> None:
    assert format_money(Decimal("1234.5"), "EUR", locale="de_DE") == "1.234,50\xa0€"
    assert format_money(Decimal("1234.5"), "EUR", locale="fr_FR") == "1\u202f234,50\xa0€"
    assert format_money(Decimal("4.5"), "GBP", locale="en_GB") == "£4.50"


def test_remembered_amounts_read_as_their_own() -> None:
    # One value in other places reads alike; zero's sign and a float are still their own.
    assert format_money(Decimal("4.5"), "GBP") == format_money(Decimal("4.500"), "GBP") == "£4.50"
    assert format_money(Decimal("0"), "GBP") == "£0.00"
    assert format_money(Decimal("-0"), "GBP") == "-£0.00"
    assert format_money(Decimal("4.5"), "EUR") == "€4.50"
    assert format_money(Decimal("4.5"), "GBP", locale="de_DE") == "4,50\xa0£"
    with pytest.raises(TypeError):
        format_money(4.5, "GBP")  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", ["en_GB", "de_DE", "fr_FR", "en_IN", "de_CH"])
@pytest.mark.parametrize("currency", ["GBP", "EUR"])
def test_amounts_read_exactly_as_babel_writes_them(currency: str, locale: str) -> None:
    # Without Babel where its shape is simple (lib/money.py `_currency_format`), with it
    # elsewhere (en_IN, de_CH): the same text either way.
    for cents_ in (0, 1, 50, 999, 100000, 123456, 99999999, 1234567891, 123456789012):
        for amount in (Decimal(cents_) / 100, -Decimal(cents_) / 100):
            expected = format_currency(amount.quantize(Decimal("0.01")), currency, locale=locale)
            assert format_money(amount, currency, locale=locale) == expected
