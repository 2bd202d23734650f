"""Hypercorn's access log, made unforgeable: every value it writes is escaped.

Hypercorn writes the request's path as decoded from the URL, so `GET /orders/x%0AFORGED` would
otherwise put a line of the client's own making in the log (and `%1B` a terminal escape, `%22`
a quote that ends the field). A filter on Hypercorn's access logger hands the format escaped
values instead: control and other unprintable characters as `\\n`, `\\x1b`, `\\u202e`, and
quotes and backslashes with a backslash, as Apache's and nginx's access logs write them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

ACCESS_LOGGER = "hypercorn.access"
SPECIAL = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(value: object) -> str:
    """One value as the access log may write it: printable, on one line, its quotes escaped."""
    text = str(value)
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(SPECIAL.get(ch) or (ch if ch.isprintable() else _code(ch)) for ch in text)


def _code(ch: str) -> str:
    point = ord(ch)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


class EscapedAtoms(dict[str, Any]):
    """Hypercorn's atoms (a mapping the format reads by key), each value escaped when read."""

    def __init__(self, atoms: Mapping[str, Any]) -> None:
        # Not empty, or `logging` would not format the message with it at all.
        super().__init__(atoms)
        self._atoms = atoms

    def __getitem__(self, key: str) -> str:
        return escape(self._atoms[key])


class EscapeAccessLog(logging.Filter):
    """Replaces an access record's atoms with their escaped view."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping) and not isinstance(record.args, EscapedAtoms):
            record.args = EscapedAtoms(record.args)
        return True


def install_access_log_escaping() -> None:
    """Escape what Hypercorn's access logger writes, in this process (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, EscapeAccessLog) for existing in logger.filters):
        logger.addFilter(EscapeAccessLog())
