"""The cart service: application factory. `app` at the bottom is only the Hypercorn target."""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, request, session

import path_setup  # noqa: F401
from config.settings import Settings, load_settings
from lib import lifecycle
from lib.assets import asset_url
from lib.auth import current_user_id, current_user_name, sign_in_url
from lib.csrf import init_csrf
from lib.db import close_request_session
from lib.errors import ServiceError, register_error_handlers
from lib.sessions import RedisSession, RedisSessionInterface

ONE_YEAR = 365 * 24 * 3600
# Requests that must work while the session store is down: probes, other apps, SumUp.
SESSIONLESS_PREFIXES = ("/healthz", "/readyz", "/internal/", "/checkout/webhook/", "/static/")


def create_app(config: dict[str, Any] | None = None) -> Quart:
    """Build the app from defaults, config/app-config.yaml, the environment and `config`; no I/O."""
    settings = load_settings(config)
    app = Quart(__name__, static_folder="static", template_folder="templates")
    app.extensions["settings"] = settings
    assert settings.secret_key is not None
    app.secret_key = settings.secret_key.get_secret_value()
    app.config.update(
        SEND_FILE_MAX_AGE_DEFAULT=ONE_YEAR,
        MAX_CONTENT_LENGTH=64 * 1024,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.session_interface = RedisSessionInterface(settings)  # type: ignore[assignment]

    _register_blueprints(app, settings)
    register_error_handlers(app)
    init_csrf(app)
    app.before_request(_refuse_without_session_store)
    app.teardown_appcontext(close_request_session)
    app.jinja_env.globals.update(
        settings=settings,
        asset_url=asset_url,
        current_user_id=current_user_id,
        current_user_name=current_user_name,
        sign_in_url=sign_in_url,
    )
    lifecycle.install(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return app


def _register_blueprints(app: Quart, settings: Settings) -> None:
    from bp.cart import bp as cart_bp
    from bp.cart.api import bp as internal_cart_bp
    from bp.fragments import bp as fragments_bp
    from bp.health import bp as health_bp
    from bp.order import bp as order_bp
    from bp.orders import bp as orders_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(internal_cart_bp)
    app.register_blueprint(fragments_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(order_bp)
    if settings.is_development:
        from bp.dev import bp as dev_bp

        app.register_blueprint(dev_bp)
    # Last: its `/<page_slug>/` route must not shadow the others (static routes win anyway).
    app.register_blueprint(cart_bp)


async def _refuse_without_session_store() -> None:
    """A page that cannot read the shared session must not act as if the shopper signed out."""
    unavailable = isinstance(session, RedisSession) and session.unavailable
    if unavailable and not request.path.startswith(SESSIONLESS_PREFIXES):
        raise ServiceError(
            503, "SESSION_STORE_UNAVAILABLE", "We are having trouble right now. Please retry."
        )


app = create_app()
