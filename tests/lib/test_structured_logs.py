"""Logs through structlog: JSON lines carrying the bound context, the standard `logging` calls
included, secrets never written; readable lines outside production."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from config.settings import load_settings
from lib.structured_logs import REDACTED, configure_logging, log_info


@pytest.fixture
def json_logs() -> Iterator[None]:
    configure_logging(json=True)
    yield
    structlog.contextvars.clear_contextvars()
    configure_logging(json=False)


def json_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_a_standard_logging_call_comes_out_as_json_with_the_bound_request_id(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-42")

    logging.getLogger("bp.cart.services.check_sumup_status").critical(
        "order %s NOT settled (%s)", 5, "amount differs"
    )

    [line] = json_lines(capsys.readouterr().err)
    assert line["event"] == "order 5 NOT settled (amount differs)"
    assert line["level"] == "critical"
    assert line["logger"] == "bp.cart.services.check_sumup_status"
    assert line["request_id"] == "req-42"
    assert line["timestamp"].endswith("Z")


def test_fields_named_like_secrets_are_never_written(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    structlog.get_logger("test").info(
        "call",
        api_key="sup_sk_live_123",
        session_id="s3ss10n",
        authorization="Bearer t0ken",
        csrf_token="c5rf",
        order_id=7,
    )

    [line] = json_lines(capsys.readouterr().err)
    for field in ("api_key", "session_id", "authorization", "csrf_token"):
        assert line[field] == REDACTED
    assert line["order_id"] == 7


def test_an_info_event_written_directly_is_the_line_structlog_writes(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-7", client="c\u00e9")
    fields: dict[str, Any] = {
        "logger": "cart.request",
        "method": "GET",
        "route": "/<page_slug>/",
        "path": "/p\u00e2ge/",
        "status": 200,
        "duration_ms": 1.5,
        "api_token": "t0ken",
        "amount": object(),
    }

    structlog.get_logger().info("request", **fields)
    log_info("request", **fields)

    untimed = [
        re.sub(r'"timestamp": "[^"]+Z"', "TIME", re.sub(r" at 0x[0-9a-f]+", "", line))
        for line in capsys.readouterr().err.splitlines()
    ]
    assert len(untimed) == 2 and untimed[0] == untimed[1]
    assert "TIME" in untimed[0] and REDACTED in untimed[0]


def test_an_exception_is_written_with_its_trace_in_one_line(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("test").exception("unhandled error on GET /")

    [line] = json_lines(capsys.readouterr().err)
    assert line["level"] == "error"
    assert "ValueError: boom" in line["exception"]


def test_hypercorns_own_logs_are_left_to_their_handlers(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("hypercorn.error").info("Running on http://127.0.0.1:1 (CTRL + C to quit)")
    logging.getLogger("hypercorn.access").info("GET / 200")

    assert json_lines(capsys.readouterr().err) == []


def test_httpx_lines_wait_for_debug_as_the_sumup_client_logs_each_call_itself(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("httpx").info("HTTP Request: GET http://sumup/v0.1/checkouts/x 200")
    assert json_lines(capsys.readouterr().err) == []

    configure_logging(json=True, level="DEBUG")
    logging.getLogger("httpx").info("HTTP Request: GET http://sumup/v0.1/checkouts/x 200")
    assert [line["logger"] for line in json_lines(capsys.readouterr().err)] == ["httpx"]


def test_readable_lines_outside_production(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=False)

    logging.getLogger("test").warning("reconciler: order %s left for the next pass", 3)

    err = capsys.readouterr().err
    assert "reconciler: order 3 left for the next pass" in err
    assert "warning" in err and not err.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("env", "log_format", "as_json"),
    [
        ("production", None, True),
        ("development", None, False),
        ("test", None, False),
        ("test", "JSON", True),
        ("development", "json", True),
        ("development", "", False),
    ],
)
def test_json_in_production_readable_elsewhere_unless_asked(
    env: str, log_format: str | None, as_json: bool
) -> None:
    # Production's required secrets are beside the point: the environment is set afterwards.
    settings = load_settings({"log_format": log_format}).model_copy(update={"app_env": env})
    assert settings.logs_as_json is as_json


def test_the_log_level_is_a_setting() -> None:
    assert load_settings({"log_level": "warning"}).log_level == "WARNING"
    with pytest.raises(Exception, match="LOG_LEVEL"):
        load_settings({"log_level": "chatty"})
