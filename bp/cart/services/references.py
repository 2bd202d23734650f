"""SumUp checkout references: one per payment attempt, `{prefix}{order_id}-{attempt}`."""

from __future__ import annotations

import re

from services.sumup import MAX_REFERENCE_LENGTH

# A prefix never ends in a digit: "a1" + order 2 would read the same as "a" + order 12.
PREFIX_PATTERN = re.compile(r"^(?:[A-Za-z0-9_.-]{0,19}[A-Za-z_.-])?$")


def valid_prefix(prefix: str) -> bool:
    """Whether a checkout-reference prefix is usable (at most 20 characters, no digit last)."""
    return bool(PREFIX_PATTERN.fullmatch(prefix))


def checkout_reference(prefix: str, order_id: int, attempt: int) -> str:
    """The reference of one attempt; unique because the order id and the attempt are."""
    reference = f"{prefix}{order_id}-{attempt}"
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise ValueError(f"checkout reference {reference!r} is longer than {MAX_REFERENCE_LENGTH}")
    return reference


def reference_prefix(reference: str, order_id: int) -> str | None:
    """The prefix an order's reference was made with, or None when it is not that order's."""
    match = re.fullmatch(rf"((?:.*\D)?){order_id}-(\d+)", reference)
    return match.group(1) if match else None


def attempt_of(reference: str, *, order_id: int, prefix: str) -> int | None:
    """The attempt number a reference names for this order and prefix, or None."""
    match = re.fullmatch(rf"{re.escape(prefix)}{order_id}-(\d+)", reference)
    return int(match.group(1)) if match else None


def belongs_to_order(
    reference: str, *, order_id: int, current_reference: str | None, attempt: int
) -> bool:
    """Whether a checkout reference is one of this order's attempts (current or earlier)."""
    if current_reference is None:
        return False
    prefix = reference_prefix(current_reference, order_id)
    if prefix is None:
        return False
    number = attempt_of(reference, order_id=order_id, prefix=prefix)
    return number is not None and 1 <= number <= attempt
