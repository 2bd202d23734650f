"""Ids are BIGINT: what can name a row, and the route converters built on the same bound."""

from __future__ import annotations

from lib.ids import BIGINT_MAX, ID, POSITIVE_ID, is_id


def test_only_positive_bigints_are_ids() -> None:
    assert is_id(1) and is_id(BIGINT_MAX)
    assert not is_id(0) and not is_id(-1) and not is_id(BIGINT_MAX + 1)


def test_the_route_converters_stop_at_the_same_bound() -> None:
    assert ID == "int(max=9223372036854775807)"
    assert POSITIVE_ID == "int(min=1, max=9223372036854775807)"
