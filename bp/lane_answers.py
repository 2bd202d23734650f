"""What the cart's lanes (bp/page_lanes.py, bp/add_lane.py) answer: a template rendered as the
views render it (lib/pages.py), with the helpers its layout and partials call given as values,
and the headers the views' answers carry."""

from __future__ import annotations

import functools

from hypercorn.typing import HTTPScope
from markupsafe import Markup
from quart import Quart
from quart.signals import template_rendered

from bp.cart.template_helpers import Fetched, badge_markup
from lib.pages import page_templates
from lib.pipeline import Header, LaneAnswer
from lib.rate_limits import limit_headers
from services.contracts.cart_summary import CartSummary

HTML = (b"content-type", b"text/html; charset=utf-8")


def lane_helpers(
    app: Quart, summary: CartSummary, csrf_token: str, *, name: str | None = None
) -> dict[str, object]:
    """The template helpers, as `Fetched` gives them to a view's render: the badge of
    `summary`, the session's CSRF token, the shopper's `name`, nothing waiting."""
    return {
        **Fetched(summary=summary, name=name).given(lambda: csrf_token),
        # As the app renders it (Fetched's own finds the app through the request).
        "cart_mini": functools.partial(_badge, app, summary.badge_count),
    }


async def rendered(
    app: Quart,
    scope: HTTPScope,
    template_name: str,
    context: dict[str, object],
    *,
    route: str,
    extra: tuple[Header, ...] = (),
) -> LaneAnswer:
    """`template_name` rendered from `context`, announced as lib/pages.render_fragment does,
    as a 200 HTML answer with the request's limit headers and `extra`, logged under `route`."""
    template = page_templates(app).get_template(template_name)
    body = template.render(context).encode()
    if template_rendered.receivers:
        # As Quart announces a template it rendered (quart/templating.py).
        await template_rendered.send_async(
            app,
            _sync_wrapper=app.ensure_async,  # type: ignore[arg-type]
            template=template,
            context=context,
        )
    headers: tuple[Header, ...] = (
        HTML,
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in limit_headers(scope)),
        *extra,
    )
    return LaneAnswer(200, headers, body, route=route)


def _badge(app: Quart, count: int, oob: bool = False) -> Markup:
    html = badge_markup(app, count, oob=oob, base_url="")
    return Markup(html)  # noqa: S704  (rendered by our own autoescaping template)
