"""The synchronous environment pages are rendered by: the app's own, without its coroutines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from jinja2 import Environment
from markupsafe import Markup, escape
from quart import Quart

from lib.pages import PageTemplate, escape_output, page_templates


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


class _Safe:
    def __html__(self) -> str:
        return "<b>kept</b>"


class _Shouting:
    def __str__(self) -> str:
        return "<script>'\"&"


WRITTEN_VALUES: list[object] = [
    "",
    "plain",
    "<script>alert('x') & \"y\"</script>",
    "O'Brien & Sons <b>",
    "caf\u00e9 \u2603 \u0000\u001f\u007f line\nbreak",
    Markup("<em>already safe</em>"),
    Markup("&amp; kept"),
    _Safe(),
    _Shouting(),
    0,
    -42,
    10**20,
    Decimal("4.50"),
    Decimal("-0.00"),
    1.5,
    True,
    None,
    ["<a>", "b"],
    {"k": "<v>"},
]


@pytest.mark.parametrize("value", WRITTEN_VALUES, ids=lambda value: type(value).__name__)
def test_a_written_value_is_escaped_to_markupsafes_text(value: object) -> None:
    written = escape_output(value)

    assert written == str(escape(value))
    assert type(written) is str  # no Markup made for a value that is only joined into the page


async def test_page_templates_write_out_through_the_plain_escape(app: Quart) -> None:
    env = page_templates(app)

    # The page, the layout it extends, a partial it includes and the macros it imports.
    for name in ("cart/page.html", "base.html", "cart/_page_cart.html", "cart/_macros.html"):
        assert env.get_template(name).root_render_func.__globals__["escape"] is escape_output
    # The app's own (async) environment is Jinja's as it comes.
    apps_own = app.jinja_env.get_template("base.html")
    assert apps_own.root_render_func.__globals__["escape"] is escape


async def test_a_page_template_writes_what_jinjas_own_escape_writes(app: Quart) -> None:
    source = (
        '{% macro cell(v) %}<td title="{{ v }}">{{ v }}</td>{% endmacro %}'
        "{% for v in values %}{{ cell(v) }}{{ v ~ '!' }}|{{ v }}{% endfor %}"
        "{% set block %}<i>{{ values[2] }}</i>{% endset %}{{ block }}"
    )
    ours = page_templates(app).from_string(source)
    jinjas = Environment(autoescape=True).from_string(source)

    assert isinstance(ours, PageTemplate)
    assert ours.render(values=WRITTEN_VALUES) == jinjas.render(values=WRITTEN_VALUES)
    assert "&lt;script&gt;alert(&#39;x&#39;) &amp; &#34;y&#34;&lt;/script&gt;" in ours.render(
        values=WRITTEN_VALUES
    )
