"""The synchronous environment pages are rendered by: the app's own, without its coroutines."""

from __future__ import annotations

from quart import Quart

from lib.pages import page_templates


async def test_sync_environment_shares_the_apps_and_leaves_coroutines_out(app: Quart) -> None:
    env = page_templates(app)

    assert not env.is_async and app.jinja_env.is_async
    # The same loader and filters (one dict: a filter added later is seen by both).
    assert env.loader is app.jinja_env.loader
    assert env.filters is app.jinja_env.filters and "money" in env.filters
    # Plain globals come across; the lazy helpers, coroutines, are the view's to bring.
    for plain in ("csrf_token", "current_user_id", "sign_in_url", "payment_wording", "settings"):
        assert env.globals[plain] is app.jinja_env.globals[plain]
    for lazy in ("cart_mini", "cart_notices", "field_problem", "field_problems", "shopper_name"):
        assert lazy in app.jinja_env.globals and lazy not in env.globals
    # An .html template is autoescaped, as the app's own.
    assert (
        env.get_template("fragments/_cart_mini.html")
        .render(summary=type("S", (), {"badge_count": 1})(), oob=False, base_url='"><x')
        .count("&#34;&gt;&lt;x/")
        == 1
    )
