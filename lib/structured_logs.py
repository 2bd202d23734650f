"""Structured logs (structlog): JSON lines in production, readable lines in development and tests.

Every line, whether written through structlog or the standard `logging` module (the SumUp
client, the reconciler, the CRITICAL mismatch lines), runs through the same structlog
processors, and so carries the context bound with `bind_contextvars` (a request's id).
Hypercorn's own error and access logs keep their handlers and formats: the access log's format
(hypercorn_config.py) leaves out query strings, and tools read its error log's "Running on" lines.

Logging is configured per process, as the `logging` module is; `configure_logging` replaces
only the handler it installed before, so pytest's capture handlers stay in place.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import threading
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog
from structlog.types import FilteringBoundLogger, Processor

HANDLER_NAME = "cart-structured-logs"
# Loggers that write through their own handlers (Hypercorn's error and access logs).
OWN_HANDLER_PREFIXES = ("hypercorn.",)
# A field whose name says it holds a secret is never written, whatever logged it.
SECRET_FIELD_PARTS = ("authorization", "cookie", "csrf", "password", "secret", "token", "api_key")
SECRET_FIELDS = frozenset({"session_id", "session", "card", "card_number", "cvv"})
REDACTED = "[redacted]"
# httpx writes a line per call at INFO, whoever in the process sends with it; the SumUp client
# (on aiohttp, which writes none) logs each of its calls itself, with the operation and time.
# httpx's lines are kept for LOG_LEVEL=DEBUG.
CHATTY_LOGGERS = ("httpx",)


def redact_secret_fields(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Blank the value of any field named like a secret (a token, a cookie, a session id)."""
    for key in event:
        if _names_a_secret(key):
            event[key] = REDACTED
    return event


@functools.lru_cache(maxsize=1024)
def _names_a_secret(key: str) -> bool:
    """Whether a field's name says it holds a secret (asked once per name: a request's log
    line has the same few fields every time)."""
    lowered = key.lower()
    return lowered in SECRET_FIELDS or any(part in lowered for part in SECRET_FIELD_PARTS)


class _OwnHandlersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(OWN_HANDLER_PREFIXES)


class _CurrentStderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is now (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class _StderrLines:
    """Where structlog's own events go: whatever `sys.stderr` is now, a line at a time.

    One for all events: structlog's WriteLoggerFactory makes a logger (and looks up its
    file's lock) for every event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        stream = sys.stderr
        with self._lock:
            stream.write(message + "\n")
            stream.flush()

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def _json_fallback(value: Any) -> Any:
    """What structlog's JSONRenderer writes for a value JSON has no type for."""
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


# structlog's JSONRenderer calls json.dumps, which makes an encoder for every event (as it
# must, given `default`); one encoder writes the very same text.
_encode = json.JSONEncoder(default=_json_fallback).encode


def render_json(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> str:
    """The event as one JSON line, as structlog's JSONRenderer writes it."""
    return _encode(event)


_lines = _StderrLines()
# structlog's logger as `configure_logging` last set it up, made once for all events (the
# lazy `structlog.get_logger()` makes a new one at every call); and whether its INFO events
# are JSON lines, which `log_info` writes itself.
_event_logger: FilteringBoundLogger | None = None
_info_as_json = False


def log_info(event: str, **fields: Any) -> None:
    """One INFO event, written as the processors `configure_logging` set up write it.

    A JSON line, as every request writes one, is made here: the same fields in the same
    order (the event's, its name, the bound context, the level, the time), the same
    redaction and the same encoder, without structlog's calls through its bound logger and
    processors, a quarter of the line's cost (tests/lib/test_structured_logs.py holds the
    two lines alike)."""
    if not _info_as_json or "exc_info" in fields:
        (_event_logger or structlog.get_logger()).info(event, **fields)
        return
    fields["event"] = event
    for key, value in structlog.contextvars.get_contextvars().items():
        fields.setdefault(key, value)
    fields["level"] = "info"
    fields["timestamp"] = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
    _lines.msg(_encode(redact_secret_fields(None, "info", fields)))


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Route all logging through structlog: JSON lines when `json`, else readable ones.

    structlog's own events (one per request) are rendered and written directly, which costs a
    third of going through `logging`; the standard `logging` calls go through a formatter
    that runs the same processors.
    """
    global _event_logger, _info_as_json
    level = level.upper()
    number = logging.getLevelNamesMapping()[level]
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, render_json]
        if json
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secret_fields,
            *renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=lambda *_args: _lines,
        # Not cached: a logger made at import follows a later configuration (the app's).
        cache_logger_on_first_use=False,
    )
    _event_logger = structlog.get_logger().bind()
    _info_as_json = json and number <= logging.INFO
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_secret_fields,
            *renderer,
        ],
    )
    handler = _CurrentStderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    handler.addFilter(_OwnHandlersFilter())
    root = logging.getLogger()
    for installed in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(installed)
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else "WARNING")
