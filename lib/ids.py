"""Ids are PostgreSQL BIGINT: a number beyond it names nothing and never reaches the database."""

from __future__ import annotations

BIGINT_MAX = 2**63 - 1
# Route converters: a larger number (or no number) matches no route, a 404 page.
ID = f"int(max={BIGINT_MAX})"
POSITIVE_ID = f"int(min=1, max={BIGINT_MAX})"


def is_id(value: int) -> bool:
    """Whether a number can be a row id at all (1 to BIGINT_MAX)."""
    return 1 <= value <= BIGINT_MAX
