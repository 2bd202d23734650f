"""The SumUp stand-in: an ASGI app speaking SumUp's checkout API, with a hosted payment page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask.templating import _default_template_ctx_processor as flask_default_processor
from quart import Quart, request

from sumup_standin import api, control, hosted
from sumup_standin.state import EXTENSION_KEY, Standin

DEFAULT_SESSION_MINUTES = 30  # SumUp's hosted checkout session (reference §6)


def create_standin_app(
    *,
    public_base: str,
    webhook_delay_scale: float = 1.0,
    session_minutes: int = DEFAULT_SESSION_MINUTES,
    clock: Callable[[], datetime] | None = None,
) -> Quart:
    """Build a stand-in whose hosted pages live under `public_base` (its own external URL)."""
    app = Quart(__name__)
    standin = Standin(
        public_base=public_base,
        webhook_delay_scale=webhook_delay_scale,
        session_minutes=session_minutes,
        clock=clock,
    )
    app.extensions[EXTENSION_KEY] = standin
    app.register_blueprint(api.bp)
    app.register_blueprint(hosted.bp)
    app.register_blueprint(control.bp)
    # As in the service (app.py): Flask's default context processor, which each blueprint
    # brings, runs in a thread for every page rendered and adds nothing under Quart.
    for processors in app.template_context_processors.values():
        processors[:] = [p for p in processors if p is not flask_default_processor]

    @app.before_request
    async def read_the_whole_request() -> None:
        """Read the body before any route (or fault switch) answers.

        Hypercorn cannot reuse a connection whose request was answered before its body
        arrived, so it closes it; a client that sent the body in a separate write, as httpx
        does, then finds its kept-alive connection closed under its next request.
        """
        await request.get_data()

    @app.after_serving
    async def close_webhooks() -> None:
        """Stop pending webhook deliveries and close their HTTP client."""
        await standin.webhooks.close()

    return app
