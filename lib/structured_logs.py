"""Structured logs (structlog): JSON lines in production, readable lines in development and tests.

Every line, whether written through structlog or the standard `logging` module (the SumUp
client, the reconciler, the CRITICAL mismatch lines), runs through the same structlog
processors, and so carries the context bound with `bind_contextvars` (a request's id).
Hypercorn's own error and access logs keep their handlers and formats: the access log's format
(hypercorn.toml) leaves out query strings, and tools read its error log's "Running on" lines.

Logging is configured per process, as the `logging` module is; `configure_logging` replaces
only the handler it installed before, so pytest's capture handlers stay in place.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.types import Processor

HANDLER_NAME = "cart-structured-logs"
# Loggers that write through their own handlers (Hypercorn's error and access logs).
OWN_HANDLER_PREFIXES = ("hypercorn.",)
# A field whose name says it holds a secret is never written, whatever logged it.
SECRET_FIELD_PARTS = ("authorization", "cookie", "csrf", "password", "secret", "token", "api_key")
SECRET_FIELDS = frozenset({"session_id", "session", "card", "card_number", "cvv"})
REDACTED = "[redacted]"
# httpx writes a line per call; the SumUp client writes its own, with the operation and time,
# so httpx's are kept for LOG_LEVEL=DEBUG.
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


class _CurrentStderr:
    """The file structlog's own events are written to: whatever `sys.stderr` is now."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Route all logging through structlog: JSON lines when `json`, else readable ones.

    structlog's own events (one per request) are rendered and written directly, which costs a
    third of going through `logging`; the standard `logging` calls go through a formatter
    that runs the same processors.
    """
    level = level.upper()
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
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
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.WriteLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        # Not cached: a logger made at import follows a later configuration (the app's).
        cache_logger_on_first_use=False,
    )
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
