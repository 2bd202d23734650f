"""The synchronous environment pages are rendered by: the app's own, without its coroutines."""

from __future__ import annotations

import pytest
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


async def test_page_templates_read_the_environments_globals_and_take_none_of_their_own(
    app: Quart,
) -> None:
    env = page_templates(app)
    template = env.get_template("fragments/_cart_mini.html")

    # The dict itself, not a ChainMap over it (copied into every render's context).
    assert template.globals is env.globals
    # Globals of its own would be written into that shared dict: refused.
    with pytest.raises(ValueError, match="no globals of its own"):
        env.get_template("fragments/_cart_mini.html", globals={"x": 1})
    assert "x" not in env.globals


async def test_a_page_template_is_loaded_once_unless_templates_reload(app: Quart) -> None:
    env = page_templates(app)
    assert not env.auto_reload  # as served: templates do not change under a worker

    first = env.get_template("fragments/_cart_mini.html")

    assert env.get_template("fragments/_cart_mini.html") is first
    assert first in env.loaded.values()
