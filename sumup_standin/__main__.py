"""Serve the SumUp stand-in: `python -m sumup_standin --host 127.0.0.1 --port 8010`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from sumup_standin.app import DEFAULT_SESSION_MINUTES, create_standin_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8010
# Requests still sleeping for a slow_* switch should not hold a test run's shutdown long.
GRACEFUL_TIMEOUT_SECONDS = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m sumup_standin", description=__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--public-base",
        help="the stand-in's external base URL for hosted pages (default http://HOST:PORT)",
    )
    parser.add_argument(
        "--webhook-delay-scale",
        type=float,
        default=1.0,
        help="multiply SumUp's webhook retry delays (60, 300, 1200, 7200 s) by this",
    )
    parser.add_argument("--session-minutes", type=int, default=DEFAULT_SESSION_MINUTES)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def serve_until_signalled(config: Config, args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    app = create_standin_app(
        public_base=args.public_base or f"http://{args.host}:{args.port}",
        webhook_delay_scale=args.webhook_delay_scale,
        session_minutes=args.session_minutes,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(app, config, shutdown_trigger=stop.wait)


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in under Hypercorn."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.graceful_timeout = GRACEFUL_TIMEOUT_SECONDS
    # Hypercorn's own loggers would print each line twice next to basicConfig's handler.
    config.accesslog = logging.getLogger("sumup_standin.access")
    config.errorlog = logging.getLogger("sumup_standin.server")
    run(serve_until_signalled(config, args))


def run(main: Coroutine[Any, Any, None]) -> None:
    """On uvloop where it is installed, as the service's workers run (hypercorn_config.py): beside
    them on one machine, the stand-in should cost what SumUp's servers cost them, nothing."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
