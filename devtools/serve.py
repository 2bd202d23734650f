"""The development run: embedded PostgreSQL and Redis, migrations, demo data, the SumUp stand-in,
and a mail catcher whose messages /dev/mail shows."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config
from redis.asyncio import Redis

from lib.access_log import AccessLogger
from lib.embedded import EmbeddedServices, migrate, start_embedded
from lib.structured_logs import configure_logging

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "8002"))
STANDIN_PORT = int(os.environ.get("SUMUP_STANDIN_PORT", "8010"))
MAIL_CATCHER_PORT = int(os.environ.get("MAIL_CATCHER_PORT", "8025"))
DEMO_SUMUP_KEY = "sup_sk_development_standin"
DEMO_MERCHANT = "MDEMO001"
log = logging.getLogger("devserver")


def prepare_environment() -> EmbeddedServices | None:
    """Fill in what the developer did not set: databases, Redis, SumUp stand-in, metrics."""
    # This command is the explicit ask for development (a bare start is production); an
    # empty APP_ENV is as good as none.
    os.environ["APP_ENV"] = os.environ.get("APP_ENV") or "development"
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{PORT}")
    # Where the pages tell shoppers to write about an order (a mailto: link).
    os.environ.setdefault("COOP_CONTACT_EMAIL", "coop@example.org")
    data_dir = Path(os.environ.get("CART_DATA_DIR", ROOT / ".data"))
    prepare_metrics_folder(data_dir)
    embedded = None
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        embedded = start_embedded(data_dir)
        os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or embedded.database_url
        os.environ["REDIS_URL"] = os.environ.get("REDIS_URL") or embedded.redis_url
    if not os.environ.get("SUMUP_API_KEY"):
        os.environ["SUMUP_API_BASE"] = f"http://{HOST}:{STANDIN_PORT}"
        os.environ["SUMUP_API_KEY"] = DEMO_SUMUP_KEY
        os.environ["SUMUP_MERCHANT_CODE"] = os.environ.get("SUMUP_MERCHANT_CODE") or DEMO_MERCHANT
    if not os.environ.get("SMTP_HOST"):
        # The cart's mail goes to the local catcher (started in `run`), never out.
        os.environ["SMTP_HOST"] = HOST
        os.environ["SMTP_PORT"] = str(MAIL_CATCHER_PORT)
        os.environ["SMTP_STARTTLS"] = "false"
        os.environ.pop("SMTP_USERNAME", None)
        os.environ.pop("SMTP_PASSWORD", None)
    return embedded


def catches_mail() -> bool:
    """Whether the cart's mail goes to the local catcher (no SMTP server of the developer's)."""
    return os.environ.get("SMTP_HOST") == HOST and os.environ.get("SMTP_PORT") == str(
        MAIL_CATCHER_PORT
    )


def prepare_metrics_folder(data_dir: Path) -> Path:
    """PROMETHEUS_MULTIPROC_DIR, emptied of a previous run's counts, as entrypoint.sh does: the
    development run serves `/metrics` as production does (set before prometheus-client loads)."""
    folder = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(data_dir / "metrics")))
    folder.mkdir(parents=True, exist_ok=True)
    for counts in folder.glob("*.db"):
        counts.unlink()
    return folder


async def run(use_standin: bool) -> None:
    from app import create_app
    from config.settings import load_settings
    from devtools.mail_catcher import start_mail_catcher
    from devtools.seed import seed_demo_data
    from lib.redis import url_with_db

    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shutdown.set)

    await seed_demo_data(os.environ["DATABASE_URL"])
    servers = []
    catcher = None
    if catches_mail():
        settings = load_settings()
        assert settings.redis_url is not None
        # In the cart's own Redis index, so that every worker's /dev/mail sees every message.
        caught = Redis.from_url(url_with_db(settings.redis_url, settings.redis_cart_db))
        catcher = await start_mail_catcher(caught, host=HOST, port=MAIL_CATCHER_PORT)
    if use_standin:
        from sumup_standin.app import create_standin_app

        standin_config = Config()
        standin_config.bind = [f"{HOST}:{STANDIN_PORT}"]
        standin = create_standin_app(public_base=f"http://{HOST}:{STANDIN_PORT}")
        servers.append(serve(standin, standin_config, shutdown_trigger=shutdown.wait))
    config = Config()
    config.bind = [f"{HOST}:{PORT}"]
    config.accesslog = "-"
    config.logger_class = AccessLogger
    servers.append(serve(create_app(), config, shutdown_trigger=shutdown.wait))
    print(
        f"\n  Cart service: http://{HOST}:{PORT}/   (storefront: /dev/shop, sign in: /dev/sign-in)"
    )
    if catcher is not None:
        print(f"  Mail catcher: smtp://{HOST}:{MAIL_CATCHER_PORT}   (caught mail: /dev/mail)")
    if use_standin:
        print(f"  SumUp stand-in: http://{HOST}:{STANDIN_PORT}/\n", flush=True)
    try:
        await asyncio.gather(*servers)
    finally:
        if catcher is not None:
            catcher.close()
            await catcher.wait_closed()
            await caught.aclose()


def main() -> None:
    configure_logging(json=os.environ.get("LOG_FORMAT", "").strip().lower() == "json")
    use_standin = not os.environ.get("SUMUP_API_KEY")
    embedded = prepare_environment()
    try:
        migrate(os.environ["DATABASE_URL"])
        asyncio.run(run(use_standin))
    finally:
        if embedded is not None:
            embedded.stop()
            print("embedded PostgreSQL and Redis stopped", flush=True)


if __name__ == "__main__":
    main()
