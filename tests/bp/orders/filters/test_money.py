"""The `money` filter: Decimal in, the amount a shopper reads out; never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from quart import render_template_string

from bp.orders.filters.money import format_money


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


async def test_templates_use_it_with_a_currency_or_the_sites(app: Any) -> None:
    async with app.test_request_context("/"):
        assert await render_template_string("{{ x | money('EUR') }}", x=Decimal("2.5")) == "€2.50"
        assert await render_template_string("{{ x | money }}", x=Decimal("2.5")) == "£2.50"
