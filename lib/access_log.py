"""Hypercorn's access log, made unforgeable (every value it writes is escaped), and cheap.

Hypercorn writes the request's path as decoded from the URL, so `GET /orders/x%0AFORGED` would
otherwise put a line of the client's own making in the log (and `%1B` a terminal escape, `%22`
a quote that ends the field). The format is handed escaped values instead: control and other
unprintable characters as `\\n`, `\\x1b`, `\\u202e`, and quotes and backslashes with a
backslash, as Apache's and nginx's access logs write them.

The deployment's Hypercorn (hypercorn_config.py) writes the line with `AccessLogger`. For every
request Hypercorn's own logger copies each request and response header and the whole
environment into a dict of atoms, of which the format reads seven, and `logging` then looks up
the caller's frame: together about a tenth of a bare request's time on a worker. `AccessLogger`
makes only the atoms the format reads, the same text as Hypercorn's, escaped. Where Hypercorn
runs with its own logger (a configuration that does not name this one), a filter on the
access logger escapes its atoms instead.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from hypercorn.logging import Logger

if TYPE_CHECKING:
    from hypercorn.typing import ResponseSummary, WWWScope

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
        if isinstance(record.args, Mapping) and not isinstance(
            record.args, EscapedAtoms | AccessAtoms
        ):
            record.args = EscapedAtoms(record.args)
        return True


# The atoms Hypercorn names (hypercorn.logging.AccessLogAtoms), besides its `{header}i`,
# `{header}o` and `{variable}e`.
ATOM_NAMES = (
    *("h", "l", "t", "r", "R", "s", "st", "S", "m", "U", "Uq"),
    *("q", "H", "b", "B", "f", "a", "T", "D", "L", "p"),
)


class AccessAtoms(Mapping[str, str]):
    """One request's atoms, as Hypercorn's `AccessLogAtoms` gives them, each made and escaped
    only when the format reads it: a name it does not know is "-", as there."""

    __slots__ = ("_request", "_request_time", "_response")

    def __init__(
        self, request: WWWScope, response: ResponseSummary | None, request_time: float
    ) -> None:
        self._request = request
        self._response = response
        self._request_time = request_time

    def __getitem__(self, key: str) -> str:
        return escape(self._atom(key))

    def __iter__(self) -> Iterator[str]:
        return iter(ATOM_NAMES)

    def __len__(self) -> int:
        # Never empty: `logging` formats a message with a mapping only when it is truthy.
        return len(ATOM_NAMES)

    def _atom(self, key: str) -> object:
        if key.startswith("{"):
            return self._header_or_variable(key.lower())
        request = self._request
        if key in ("b", "B"):
            return self._header_or_variable("{content-length}o")
        if key == "f":
            return self._header_or_variable("{referer}i")
        if key == "a":
            return self._header_or_variable("{user-agent}i")
        method = request["method"] if request["type"] == "http" else "GET"
        protocol = request.get("http_version", "ws")
        if key == "r":
            return f"{method} {request['path']} {protocol}"
        if key == "s":
            return "-" if self._response is None else str(self._response["status"])
        if key == "h":
            return _remote_address(request.get("client"))
        if key == "t":
            return time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
        if key == "L":
            return f"{self._request_time:.6f}"
        query = request["query_string"].decode()
        with_query = request["path"] + ("?" + query if query else "")
        others: dict[str, object] = {
            "l": "-",
            "R": f"{method} {with_query} {protocol}",
            "st": self._phrase(),
            "S": request["scheme"],
            "m": method,
            "U": request["path"],
            "Uq": with_query,
            "q": query,
            "H": protocol,
            "T": int(self._request_time),
            "D": int(self._request_time * 1_000_000),
            "p": f"<{os.getpid()}>",
        }
        return others.get(key, "-")

    def _phrase(self) -> str:
        if self._response is None:
            return "-"
        try:
            return HTTPStatus(self._response["status"]).phrase
        except ValueError:
            return f"<???{self._response['status']}???>"

    def _header_or_variable(self, key: str) -> str:
        """`{name}i`, `{name}o` or `{name}e`, lower-cased: the last of that name, else "-"."""
        name, kind = key[1:-2], key[-1]
        if not key.endswith("}" + kind):
            return "-"
        if kind == "e":
            found = [v for k, v in os.environ.items() if k.lower() == name]
            return found[-1] if found else "-"
        if kind == "i":
            headers = self._request["headers"]
        elif kind == "o" and self._response is not None:
            headers = self._response.get("headers", [])
        else:
            return "-"
        value = "-"
        for sent, sent_value in headers:
            if sent.decode("latin1").lower() == name:
                value = sent_value.decode("latin1")
        return value


def _remote_address(client: object) -> str | None:
    if client is None:
        return None
    assert isinstance(client, tuple | list)
    if len(client) == 2:
        return f"{client[0]}:{client[1]}"
    if len(client) == 1:
        return str(client[0])
    return f"<???{client}???>"


class AccessLogger(Logger):
    """Hypercorn's logger, writing each access line from `AccessAtoms` (set as the config's
    `logger_class`). The record is made without looking up the caller's frame, which an
    access line does not show."""

    def atoms(
        self, request: WWWScope, response: ResponseSummary | None, request_time: float
    ) -> Mapping[str, str]:
        return AccessAtoms(request, response, request_time)

    async def access(
        self, request: WWWScope, response: ResponseSummary, request_time: float
    ) -> None:
        logger = self.access_logger
        if logger is None or not logger.isEnabledFor(logging.INFO):
            return
        atoms = self.atoms(request, response, request_time)
        record = logger.makeRecord(
            logger.name, logging.INFO, "(access)", 0, self.access_log_format, (atoms,), None
        )
        logger.handle(record)


def install_access_log_escaping() -> None:
    """Escape what Hypercorn's access logger writes, in this process (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, EscapeAccessLog) for existing in logger.filters):
        logger.addFilter(EscapeAccessLog())
