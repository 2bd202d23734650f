"""The one error the SumUp client raises, and how it is read from any error body SumUp sends."""

from __future__ import annotations

import json
from typing import Any

# Codes the client itself uses when SumUp never answered.
TIMEOUT = "TIMEOUT"
NETWORK = "NETWORK"
INVALID_RESPONSE = "INVALID_RESPONSE"

# Problem JSON carries no `error_code`; these give it the code the legacy bodies would have had,
# so callers can test one code whichever body shape the gateway chose.
CODES_BY_STATUS = {
    400: "INVALID",
    401: "NOT_AUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "INVALID",
    429: "RATE_LIMITED",
}
SERVER_ERROR = "SERVER_ERROR"
MAX_TEXT_IN_MESSAGE = 200


class SumUpError(Exception):
    """A SumUp call that failed: an error answer, a timeout or a network failure."""

    def __init__(
        self,
        *,
        status: int | None,
        code: str | None,
        message: str = "",
        params: list[str] | None = None,
        problem_type: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.params = params or []
        self.problem_type = problem_type
        super().__init__(str(self))

    def __str__(self) -> str:
        status = "no answer" if self.status is None else str(self.status)
        text = f"SumUp {status} {self.code or ''}".rstrip()
        if self.message:
            text = f"{text}: {self.message}"
        if self.params:
            text = f"{text} ({', '.join(self.params)})"
        return text

    def __repr__(self) -> str:
        return (
            f"SumUpError(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, params={self.params!r})"
        )

    @property
    def is_timeout(self) -> bool:
        """SumUp did not answer in time; the request may or may not have taken effect."""
        return self.code == TIMEOUT

    @property
    def is_retryable(self) -> bool:
        """The same request may succeed if sent again (timeouts, network, 5xx, 429)."""
        if self.status is None:
            return self.code in (TIMEOUT, NETWORK)
        return self.status >= 500 or self.status == 429

    @property
    def is_conflict(self) -> bool:
        """SumUp answered 409 (duplicate reference, already processed, not refundable)."""
        return self.status == 409

    @property
    def is_not_found(self) -> bool:
        """SumUp answered 404."""
        return self.status == 404


def error_from_response(status: int, content: bytes, reason: str = "") -> SumUpError:
    """Build a SumUpError from an error answer (its status, body and reason), whatever shape
    its body has."""
    default_code = CODES_BY_STATUS.get(status, SERVER_ERROR if status >= 500 else None)
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = None
    if isinstance(body, list):
        return _from_error_list(status, default_code, body)
    if isinstance(body, dict):
        return _from_error_object(status, default_code, body)
    text = content.decode("utf-8", "replace").strip()[:MAX_TEXT_IN_MESSAGE]
    return SumUpError(status=status, code=default_code, message=text or reason)


def _from_error_object(status: int, default_code: str | None, body: dict[str, Any]) -> SumUpError:
    """Read a legacy `{error_code, message|error_message, param}` or a Problem JSON object."""
    code = _text(body.get("error_code")) or default_code
    message = (
        _text(body.get("message"))
        or _text(body.get("error_message"))
        or _text(body.get("detail"))
        or _text(body.get("title"))
        or ""
    )
    param = _text(body.get("param"))
    return SumUpError(
        status=status,
        code=code,
        message=message,
        params=[param] if param else [],
        problem_type=_text(body.get("type")),
    )


def _from_error_list(status: int, default_code: str | None, body: list[Any]) -> SumUpError:
    """Read the array of validation errors SumUp sends when several fields fail."""
    items = [
        _from_error_object(status, default_code, item) for item in body if isinstance(item, dict)
    ]
    if not items:
        return SumUpError(status=status, code=default_code, message="")
    messages = list(dict.fromkeys(item.message for item in items if item.message))
    return SumUpError(
        status=status,
        code=items[0].code,
        message="; ".join(messages),
        params=[param for item in items for param in item.params],
    )


def _text(value: object) -> str | None:
    """A non-empty string from a JSON value, or None."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
