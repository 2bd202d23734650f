"""The cart service: application factory. `app` at the bottom is only the Hypercorn target."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.templating import _default_template_ctx_processor as flask_default_processor
from quart import Quart, Request
from quart.globals import request_ctx
from quart.wrappers import BaseRequestWebsocket

import path_setup  # noqa: F401
from bp.add_lane import add_lane
from bp.cart import bp as cart_bp
from bp.cart import internal_bp as internal_cart_bp
from bp.cart.request_identity import adopt_anonymous_cart_on_sign_in
from bp.cart.services.purge import purge_job
from bp.cart.services.reconciler import reconciler_job
from bp.dev import bp as dev_bp
from bp.fragments import bp as fragments_bp
from bp.fragments.routes import IDENTITY_PARAMS
from bp.health import bp as health_bp
from bp.internal_lanes import internal_lanes
from bp.openapi import bp as openapi_bp
from bp.order import bp as order_bp
from bp.order.services.mail_relay import mail_job
from bp.order.services.payment_messages import TEMPLATE_GLOBALS as PAYMENT_MESSAGES
from bp.orders import bp as orders_bp
from bp.page_lanes import page_lanes
from bp.runtime import install_runtime
from bp.staff import bp as staff_bp
from bp.staff import require_staff
from config.settings import Settings, load_settings
from lib.access_log import install_access_log_escaping
from lib.asgi_connection import LeanHTTPConnection
from lib.assets import asset_url
from lib.auth import current_user_id, current_user_name, sign_in_url
from lib.csrf import init_csrf
from lib.error_codes import ErrorCode
from lib.error_handlers import register_error_handlers
from lib.errors import unavailable
from lib.idempotency import install_idempotency
from lib.internal_auth import bearer_token_check
from lib.openapi import install_openapi
from lib.pages import install_page_rendering
from lib.pipeline import Lanes, install_pipeline, raise_lane_error
from lib.rate_limits import install_rate_limits
from lib.request_observation import RequestObservation
from lib.security_headers import security_headers
from lib.sessions import RedisSession, RedisSessionInterface
from lib.static_files import install_static_files
from lib.structured_logs import configure_logging
from services.events import relay_job
from services.runtime import Job, Runtime

ONE_YEAR = 365 * 24 * 3600
# A request body must arrive within this time: a client trickling one byte at a time does not
# hold a connection longer (Hypercorn's read timeout ends one that stops sending).
BODY_TIMEOUT_SECONDS = 15
# Requests that must work while the session store is down: probes, other apps, SumUp. None of
# them reads the shopper's session, so none loads it, except a fragment asked for without
# naming the shopper (the browser's own cart, from its cookie).
SESSIONLESS_PREFIXES = ("/healthz", "/readyz", "/internal/", "/checkout/webhook/", "/static/")
FRAGMENTS_PREFIX = "/internal/fragments/"
# The background jobs, started and stopped with serving: settle and expire open orders, relay
# the outbox to the federation store, mail the shoppers what the outbox reports (when an SMTP
# host is set), and empty the anonymous carts left behind.
BACKGROUND_JOBS: tuple[Job, ...] = (reconciler_job, relay_job, mail_job, purge_job)
# The internal API's OpenAPI document (GET /internal/openapi.json).
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "What the coop's other apps call: the cart summary, adoption at sign-in, refunds, and the "
    "HTML fragments. Send `Authorization: Bearer <INTERNAL_API_TOKEN>`. Errors are JSON "
    '`{"error": {"code": "…", "message": "…"}}` (HTML for the fragments).'
)


def create_app(config: dict[str, Any] | None = None) -> Quart:
    """Build the app from defaults, config/app-config.yaml, the environment and `config`; no I/O."""
    settings = load_settings(config)
    jobs = BACKGROUND_JOBS if settings.background_jobs_enabled else ()
    app_runtime = Runtime(settings, jobs=jobs)
    assert settings.secret_key is not None and settings.internal_api_token is not None
    secret_key = settings.secret_key.get_secret_value()

    app = Quart(__name__, static_folder="static", template_folder="templates")
    # Each request handled in the task it arrived in (lib/asgi_connection.py).
    app.asgi_http_class = LeanHTTPConnection
    app.secret_key = secret_key
    app.config.update(
        SEND_FILE_MAX_AGE_DEFAULT=ONE_YEAR,
        MAX_CONTENT_LENGTH=64 * 1024,
        BODY_TIMEOUT=BODY_TIMEOUT_SECONDS,
        PROPAGATE_EXCEPTIONS=False,
    )
    install_runtime(app, app_runtime)
    app.session_interface = RedisSessionInterface(  # type: ignore[assignment]
        settings,
        store=lambda: app_runtime.redis.auth,
        hot=lambda: app_runtime.redis.auth_hot,
        needed=_reads_the_session,
    )

    _register_blueprints(app, settings)
    install_openapi(
        app, title="Rose Ash cart: internal API", version=API_VERSION, description=API_DESCRIPTION
    )
    register_error_handlers(app)
    install_static_files(app)
    limits = install_rate_limits(
        app, settings, redis=lambda: app_runtime.redis.cart, hot=lambda: app_runtime.redis.cart_hot
    )
    install_idempotency(app, redis=lambda: app_runtime.redis.cart)
    observation = RequestObservation(app_runtime.metrics)
    internal_token = settings.internal_api_token.get_secret_value()
    # Every request's way, in this order (lib/pipeline.py). First the id and the metrics: a
    # request a later step refuses is still timed and logged; then the error a lane met, if
    # it left one (bp/internal_lanes.py answers the badge and summary's commonest shape before
    # all this, observed alike). The token check says who calls,
    # the limits use that. To anyone but the staff the staff console's routes do not exist,
    # before CSRF could say otherwise. Then CSRF, the session store's check, and the
    # adoption of an anonymous cart at the first request after a sign-in.
    install_pipeline(
        app,
        before=(
            observation.start,
            raise_lane_error,
            bearer_token_check(internal_token),
            limits.count_by_hand,
            limits.check_route,
            require_staff,
            init_csrf(app, secret_key=secret_key),
            _refuse_without_session_store,
            adopt_anonymous_cart_on_sign_in,
        ),
        after=(limits.add_headers, observation.finish),
        headers=security_headers(settings),
        lanes=Lanes(
            internal_lanes(app, token=internal_token, limits=limits.routes),
            observation,
            shaped=[page_lanes(app, limits=limits.routes, secret_key=secret_key)],
            posts=[add_lane(app, limits=limits.routes, secret_key=secret_key)],
        ),
    )
    app.jinja_env.globals.update(
        settings=settings,
        asset_url=asset_url,
        current_user_id=current_user_id,
        current_user_name=current_user_name,
        sign_in_url=partial(sign_in_url, settings),
    )
    app.jinja_env.globals.update(PAYMENT_MESSAGES)
    # Last of the templates' set-up: it copies the app's environment as it now stands.
    install_page_rendering(app)
    # The process's logging (the last app made decides, as there is one per worker).
    configure_logging(json=settings.logs_as_json, level=settings.log_level)
    install_access_log_escaping()
    return app


def _register_blueprints(app: Quart, settings: Settings) -> None:
    app.register_blueprint(health_bp)
    app.register_blueprint(internal_cart_bp)
    app.register_blueprint(fragments_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(order_bp)
    app.register_blueprint(staff_bp)
    if settings.is_development:
        app.register_blueprint(dev_bp)
    # Last: its `/<page_slug>/` route must not shadow the others (static routes win anyway).
    app.register_blueprint(cart_bp)
    # Each blueprint brings Flask's own default context processor (a plain function, from
    # Flask's sansio Blueprint): Quart runs it in a thread for every template rendered, and
    # it adds nothing, since it looks for a Flask context. Quart's own (async) one stays.
    for processors in app.template_context_processors.values():
        processors[:] = [p for p in processors if p is not flask_default_processor]


def _reads_the_session(request: BaseRequestWebsocket) -> bool:
    """Whether the request's route may read the shopper's session."""
    path = request.path
    if not path.startswith(SESSIONLESS_PREFIXES):
        return True
    return path.startswith(FRAGMENTS_PREFIX) and not any(
        name in request.args for name in IDENTITY_PARAMS
    )


async def _refuse_without_session_store(request: Request) -> None:
    """A page that cannot read the shared session must not act as if the shopper signed out."""
    if request.path.startswith(SESSIONLESS_PREFIXES):
        return
    shared = request_ctx.session
    if isinstance(shared, RedisSession) and shared.unavailable:
        raise unavailable(ErrorCode.SESSION_STORE_UNAVAILABLE)


app = create_app()
