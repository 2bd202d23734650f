"""Checkout references: one per payment attempt, `{prefix}{order_id}-{attempt}`, recognised."""

from __future__ import annotations

import pytest

from bp.cart.services.references import (
    belongs_to_order,
    checkout_reference,
    reference_prefix,
    valid_prefix,
)


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("", True),
        ("rose-", True),
        ("shop_a.", True),
        ("a1", False),
        ("x" * 21, False),
        ("a b-", False),
    ],
)
def test_a_prefix_never_ends_in_a_digit(prefix: str, ok: bool) -> None:
    assert valid_prefix(prefix) is ok


def test_references_are_per_attempt_and_recognised() -> None:
    assert checkout_reference("rose-", 12, 3) == "rose-12-3"
    assert reference_prefix("rose-12-3", 12) == "rose-"
    assert reference_prefix("rose-12-3", 2) is None
    assert belongs_to_order("rose-12-2", order_id=12, current_reference="rose-12-3", attempt=3)
    assert not belongs_to_order("rose-12-4", order_id=12, current_reference="rose-12-3", attempt=3)
    assert not belongs_to_order("rose-112-1", order_id=12, current_reference="rose-12-3", attempt=3)
    assert not belongs_to_order("other-12-1", order_id=12, current_reference="rose-12-3", attempt=3)
    with pytest.raises(ValueError):
        checkout_reference("x" * 50, 10**15, 1)
