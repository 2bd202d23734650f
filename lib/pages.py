"""Pages rendered from data fetched first, by a synchronous Jinja environment.

Quart renders Jinja in async mode: every call and every output of a template goes through
`auto_await`, which costs a page a large share of its time even when nothing in it awaits. A
hot page instead fetches its whole view first (plain values, and plain functions over them) and
is rendered here with no coroutine left to call. The synchronous environment is built once from
the app's own (`install_page_rendering`): the same loader, filters, tests and policies, and the
app's globals that are plain values or functions. A global that is a coroutine function (the
lazy helpers, which read the database or Redis when a template calls them) is left out: the
view brings its value instead, under the same name, so a template reads the same either way.

Each value a page writes out is escaped as markupsafe escapes it, into plain text
(`escape_output`): Jinja's own output escape makes a `Markup` object of every value only to
join it into the page, and a cart page writes about two hundred.

What a full page's layout needs (the badge, the waiting notices, the shopper's name) belongs to
the blueprints that know it: each registers an async provider (`add_layout_provider`), awaited
by `render_page` before the render.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from functools import partial
from types import CodeType, FunctionType, MethodType
from typing import Any

from flask.sansio.app import App
from jinja2 import BaseLoader, Environment, Template
from markupsafe import escape
from quart import Quart, current_app
from quart.signals import template_rendered

try:  # markupsafe's own choice: its C speedup, else its Python escape (markupsafe/__init__.py)
    from markupsafe._speedups import _escape_inner
except ImportError:  # a markupsafe built without its speedup
    from markupsafe._native import _escape_inner

ENVIRONMENT = "sync_templates"
LAYOUT_PROVIDERS = "layout_providers"

LayoutProvider = Callable[[], Awaitable[Mapping[str, object]]]


def escape_output(value: object) -> str:
    """A value a template writes out, escaped as `markupsafe.escape` does, as plain text.

    The text is markupsafe's to the character: its own escape of a string (its C speedup when
    installed), a value's `__html__` as it is, anything else made a string first. Only the
    `Markup` wrapper is left out: a written value is joined into the page at once, and no
    template can look at it, so nothing tells the two apart."""
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    return _escape_inner(str(value))


class PageTemplate(Template):
    """A page template: what it writes out is escaped by `escape_output`."""

    @classmethod
    def from_code(
        cls,
        environment: Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> Template:
        """The compiled template, its output escape swapped in its module's namespace: the
        generated code calls the `escape` it imported from Jinja's runtime (markupsafe's) for
        each value it writes, and for nothing else."""
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is escape:
            namespace["escape"] = escape_output
        return template


class PageEnvironment(Environment):
    """Jinja's environment, but its templates read the environment's globals as they are.

    Jinja gives each template a ChainMap of its own globals over the environment's, so that
    they can differ. Every render copies the globals into its context, and every `{% from %}`
    compares their keys, which through a ChainMap is Python code for each key (about a tenth of
    a small fragment's render). No template here has globals of its own: it gets the plain dict.
    """

    template_class = PageTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # By loader too, as Jinja's own cache: an overlay (which shares this dict) may load
        # from elsewhere.
        self.loaded: dict[tuple[BaseLoader | None, str, str | None], Template] = {}

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """The environment's globals themselves, unless a template brings its own."""
        return super().make_globals(d) if d else self.globals

    def get_template(
        self,
        name: str | Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> Template:
        """A template, which takes no globals of its own: they would be written into the
        environment's, which a cached template shares.

        Unless templates are reloaded when changed (development), each is kept in a plain dict
        by name: Jinja's own cache is an LRU whose every hit takes a lock and moves the name
        in a queue, item by item, and a page asks for its layout, includes and imports about
        ten times."""
        if globals:
            raise ValueError("a page template takes no globals of its own")
        if self.auto_reload or isinstance(name, Template):
            return super().get_template(name, parent)
        key = (self.loader, name, parent)
        template = self.loaded.get(key)
        if template is None:
            template = self.loaded[key] = super().get_template(name, parent)
        return template


def install_page_rendering(app: Quart) -> None:
    """Build the synchronous environment beside the app's; call it once every global is set."""
    source = app.jinja_env
    env = PageEnvironment(
        loader=source.loader,
        autoescape=app.select_jinja_autoescape,  # as Quart's: on for .html
        auto_reload=source.auto_reload,
        undefined=source.undefined,
        extensions=[type(extension) for extension in source.extensions.values()],
    )
    # The same dicts: a filter or test registered later is seen by both environments.
    env.filters = source.filters
    env.tests = source.tests
    env.policies = source.policies
    env.globals.update(
        (name, value) for name, value in source.globals.items() if not _is_coroutine(value)
    )
    app.extensions[ENVIRONMENT] = env
    app.extensions.setdefault(LAYOUT_PROVIDERS, [])


def add_layout_provider(app: App, provider: LayoutProvider) -> None:
    """Have `provider` add what the layout needs to every page `render_page` renders."""
    app.extensions.setdefault(LAYOUT_PROVIDERS, []).append(provider)


def page_templates(app: Quart) -> PageEnvironment:
    """The app's synchronous environment."""
    env: PageEnvironment = app.extensions[ENVIRONMENT]
    return env


async def render_fragment(template_name: str, /, **view: Any) -> str:
    """A partial, from its view alone (values and plain functions: the render awaits nothing)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = page_templates(app).get_template(template_name)
    html = template.render(view)
    if template_rendered.receivers:
        # Whichever environment rendered it, a template rendered is announced as Quart does.
        await template_rendered.send_async(
            app, _sync_wrapper=app.ensure_async, template=template, context=view
        )
    return html


async def render_page(template_name: str, /, **view: Any) -> str:
    """A full page: its view and what the layout needs, fetched first, then rendered."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    layout: dict[str, object] = {}
    for provider in app.extensions[LAYOUT_PROVIDERS]:
        layout.update(await provider())
    return await render_fragment(template_name, **layout, **view)


def _is_coroutine(value: object) -> bool:
    # Judged by type alone: `request`, `session` and `g` are proxies, which would look for a
    # request if asked anything. A partial is judged by its function.
    func = value.func if type(value) is partial else value
    return type(func) in (FunctionType, MethodType) and inspect.iscoroutinefunction(func)
