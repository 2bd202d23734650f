"""The deployment's access logger (lib/access_log.AccessLogger): each line is Hypercorn's own
logger's line, escaped, whatever the format reads; and the deployment's settings name it."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import pytest
from hypercorn.config import Config
from hypercorn.logging import AccessLogAtoms, Logger

from lib.access_log import AccessAtoms, AccessLogger, EscapedAtoms, install_access_log_escaping
from tests.support.servers.service import PROJECT_ROOT

PRODUCTION_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'
EVERY_ATOM = (
    "%(h)s|%(l)s|%(r)s|%(R)s|%(s)s|%(st)s|%(S)s|%(m)s|%(U)s|%(Uq)s|%(q)s|%(H)s|%(b)s|%(B)s|"
    "%(f)s|%(a)s|%(T)s|%(D)s|%(L)s|%(p)s|%(nothing)s|"
    "%({X-Request-ID}o)s|%({content-type}o)s|%({Accept}i)s|%({x-twice}i)s|%({absent}i)s|"
    "%({CART_ACCESS_LOG_PROBE}e)s|%({no_such_variable}e)s|%({unclosed)s|%({x}z)s"
)
DEFAULT_FORMAT = Config().access_log_format


def request(**changes: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "client": ("203.0.113.9", 51234),
        "method": "GET",
        "scheme": "https",
        "path": "/bakery/",
        "query_string": b"next=%2Forders%2F",
        "headers": [
            (b"host", b"cart.coop"),
            (b"user-agent", b"Mozilla/5.0 (X11)"),
            (b"referer", b"https://coop.example/"),
            (b"accept", b"text/html"),
            (b"x-twice", b"first"),
            (b"x-twice", b"second"),
        ],
    }
    scope.update(changes)
    return scope


RESPONSE: dict[str, Any] = {
    "status": 200,
    "headers": [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", b"24817"),
        (b"x-request-id", b"5f0c"),
    ],
}

CASES = {
    "a page": (request(), RESPONSE),
    "a hostile path": (
        request(path='/orders/x\n"FORGED" 200 \x1b[31m\u202e\\', query_string=b""),
        {"status": 404, "headers": [(b"content-length", b"12")]},
    ),
    "no client, no length, odd status": (
        request(client=None, headers=[(b"host", b"h")]),
        {"status": 599, "headers": []},
    ),
    "a one-part client, a websocket": (
        {**request(client=("unix",)), "type": "websocket"},
        None,
    ),
}


def stock_line(fmt: str, scope: dict[str, Any], response: Any, took: float) -> str:
    """The line Hypercorn's own logger makes, with the escaping filter's view of its atoms."""
    return fmt % EscapedAtoms(AccessLogAtoms(scope, response, took))  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", [PRODUCTION_FORMAT, DEFAULT_FORMAT, EVERY_ATOM])
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_atom_is_hypercorns_escaped(
    fmt: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CART_ACCESS_LOG_PROBE", 'say "hi"\n')
    # The same clock for both (ours reads it when the line is made, Hypercorn's before).
    monkeypatch.setattr(time, "strftime", lambda layout: "[06/Dec/2026:16:00:00 +0000]")
    scope, response = CASES[case]
    ours = fmt % AccessAtoms(scope, response, 0.0123456)  # type: ignore[arg-type]
    assert ours == stock_line(fmt, scope, response, 0.0123456)
    if "%(t)s" in fmt:
        assert "[06/Dec/2026:16:00:00 +0000]" in ours
    assert "\n" not in ours and "\x1b" not in ours and "\u202e" not in ours


async def test_the_logger_writes_the_same_lines_as_hypercorns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_access_log_escaping()
    written: dict[type[Logger], str] = {}
    for logger_class in (Logger, AccessLogger):
        config = Config()
        config.accesslog = "-"
        config.access_log_format = EVERY_ATOM.replace("%(t)s", "")
        config.logger_class = logger_class
        stream = io.StringIO()
        monkeypatch.setattr("sys.stdout", stream)
        logger = config.log
        assert logger.access_logger is not None
        logger.access_logger.handlers[0].setFormatter(logging.Formatter("%(message)s"))
        for scope, response in CASES.values():
            await logger.access(scope, response, 0.25)  # type: ignore[arg-type]
        written[logger_class] = stream.getvalue()
    assert written[AccessLogger] == written[Logger]
    assert written[AccessLogger].count("\n") == len(CASES)
    assert '/orders/x\\n\\"FORGED\\" 200 \\x1b[31m\\u202e\\\\' in written[AccessLogger]


async def test_no_line_is_made_when_the_access_log_is_off() -> None:
    config = Config()
    config.logger_class = AccessLogger
    assert config.log.access_logger is None
    await config.log.access(request(), RESPONSE, 0.1)  # type: ignore[arg-type]


def test_the_deployment_writes_its_access_log_with_it() -> None:
    config = Config.from_pyfile(PROJECT_ROOT / "hypercorn_config.py")
    assert config.logger_class is AccessLogger
    assert config.accesslog == "-" and config.access_log_format == PRODUCTION_FORMAT
    assert config.worker_class == "uvloop"
    assert (config.keep_alive_timeout, config.read_timeout, config.graceful_timeout) == (5, 10, 30)
    assert "AccessLogger" not in vars(config) and "_ROOT" not in vars(config)
