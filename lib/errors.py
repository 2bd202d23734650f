"""One error type for expected failures; lib/error_handlers.py answers it for each caller.

Services raise these and know nothing of requests: the same error is a JSON body for another
coop app, a fragment for HTMX and a page for a browser.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An expected failure: an HTTP status, a SCREAMING_SNAKE code and a message for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ServiceError({self.status}, {self.code!r}, {self.message!r})"


class NotFound(ServiceError):
    """Something that does not exist, or that belongs to someone else."""

    def __init__(self, message: str = "We could not find that.", code: str = "NOT_FOUND") -> None:
        super().__init__(404, code, message)


class BadRequest(ServiceError):
    """An input a person can correct."""

    def __init__(self, message: str, code: str = "INVALID_INPUT") -> None:
        super().__init__(400, code, message)
