"""Search terms: which name an order number, and LIKE patterns that match literally."""

from __future__ import annotations

import pytest

from bp.orders.services.search import order_number_of
from lib.like import escape_like


@pytest.mark.parametrize(
    ("term", "number"),
    [
        ("42", 42),
        ("#42", 42),
        (" #42 ", 42),
        ("# 42", 42),
        ("0042", 42),
        ("0", None),
        ("#", None),
        ("42a", None),
        ("4 2", None),
        ("-42", None),
        ("##42", None),
        ("9223372036854775807", 9223372036854775807),
        ("9223372036854775808", None),
        ("99999999999999999999", None),
        ("٤٢", None),
    ],
)
def test_order_numbers(term: str, number: int | None) -> None:
    assert order_number_of(term) == number


def test_like_wildcards_and_the_escape_match_literally() -> None:
    assert escape_like("100%") == "100\\%"
    assert escape_like("a_b") == "a\\_b"
    assert escape_like("back\\slash") == "back\\\\slash"
    assert escape_like("plain") == "plain"
