"""Reading a JSON request body that may be hostile."""

from __future__ import annotations

import json


def loads_or_none(raw: str | bytes) -> object | None:
    """The JSON value of `raw`, or None when it is empty, not JSON, or nested too deep.

    A body of 60,000 `[` is within the size limit, and Python's parser answers it with a
    RecursionError rather than a ValueError: both mean "not a body we can read".
    """
    if not raw or not raw.strip():
        return None
    try:
        value: object = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value
