"""Checks on the ids SumUp hands out, for values that come from outside before SumUp sees them."""

from __future__ import annotations

import re

# SumUp's checkout ids are UUIDs (`id`, format uuid, in its OpenAPI spec), written in the
# canonical 8-4-4-4-12 form. Hex digits are case-insensitive on input (RFC 9562), spelt out
# rather than matched with IGNORECASE, which would let non-ASCII letters fold into them.
CHECKOUT_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
CHECKOUT_ID_LENGTH = 36


def is_checkout_id(value: object) -> bool:
    """Whether `value` is a well-formed SumUp checkout id: a UUID in its 36-character form.

    Braces, a `urn:uuid:` prefix, missing hyphens, whitespace or anything longer are refused,
    though Python's uuid.UUID would take them.
    """
    return (
        isinstance(value, str)
        and len(value) == CHECKOUT_ID_LENGTH
        and CHECKOUT_ID.fullmatch(value) is not None
    )
