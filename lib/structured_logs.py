"""Structured logs (structlog): JSON lines in production, readable lines in development and tests.

Every line, whether written through structlog or the standard `logging` module (the SumUp
client, the reconciler, the CRITICAL mismatch lines), goes through one structlog formatter on
the root logger, and so carries the context bound with `bind_contextvars` (a request's id).
Hypercorn's own error and access logs keep their handlers and formats: the access log's format
(hypercorn.toml) leaves out query strings, and tools read its error log's "Running on" lines.

Logging is configured per process, as the `logging` module is; `configure_logging` replaces
only the handler it installed before, so pytest's capture handlers stay in place.
"""

from __future__ import annotations

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
        lowered = key.lower()
        if lowered in SECRET_FIELDS or any(part in lowered for part in SECRET_FIELD_PARTS):
            event[key] = REDACTED
    return event


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


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    """Route all logging through structlog: JSON lines when `json`, else readable ones."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if json:
        renderer = structlog.processors.JSONRenderer()
        finish: list[Processor] = [structlog.processors.format_exc_info, renderer]
    else:
        finish = [structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_secret_fields,
            *finish,
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
    root.setLevel(level.upper())
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if level.upper() == "DEBUG" else "WARNING")
