"""What the cart's pages show, and what its shopper POSTs answer.

A POST answers HTMX with the re-rendered cart view, the message and the badge out of band, and
any other request with a 303 back.
"""

from __future__ import annotations

from typing import Any

from quart import request
from quart.typing import ResponseReturnValue
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.request_identity import claim_cart_identity, current_cart_identity
from bp.cart.services.order_preview import OrderPreview, scopes_overlap
from bp.cart.services.page_cart import (
    get_overview,
    get_page_view_by_slug,
)
from bp.cart.template_helpers import fetched_for_fragment, read_with_page
from bp.runtime import current_runtime, request_session
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.htmx import is_htmx, safe_next, see_other
from lib.pages import render_fragment
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity, ProductDTO
from services.runtime import Runtime

# The form field naming the view an HTMX change re-renders: a page slug, or empty (overview).
VIEW_FIELD = "view"


def cart_identity() -> CartIdentity:
    """The identity a cart change acts for; a browser without a cart has nothing to change."""
    identity = current_cart_identity()
    if identity is None:
        raise NotFound(ErrorCode.NOT_IN_CART)
    return identity


async def writable_identity() -> CartIdentity:
    """The identity a cart write acts for, creating the anonymous cart on the first write."""
    return await claim_cart_identity()


async def overview_context(identity: CartIdentity | None) -> dict[str, Any]:
    """One group per page with its counts and subtotal, and the grand total."""
    context, summary = await overview_view(current_runtime(), request_session(), identity)
    if summary is not None:
        read_with_page(identity, summary)
    return context


async def overview_view(
    runtime: Runtime, db: AsyncSession, identity: CartIdentity | None
) -> tuple[dict[str, Any], CartSummary | None]:
    """`overview_context`'s view, and the badge's summary when its statement read it; of no
    request's context (bp/page_lanes.py answers the page before the framework)."""
    overview = await get_overview(
        db,
        identity=identity,
        currency=runtime.settings.currency,
        domains=runtime.domains,
    )
    groups, waiting = overview.groups, overview.held
    previews = {
        group.page.id: OrderPreview(
            lines=group.lines,
            entries=group.entries,
            tickets=group.tickets,
            held=[o for o in waiting if scopes_overlap(o.page_id, group.page.id)],
            page_id=group.page.id,
        )
        for group in groups
        if group.page is not None
    }
    everything = OrderPreview(
        lines=[line for group in groups for line in group.lines],
        entries=[entry for group in groups for entry in group.entries],
        tickets=[ticket for group in groups for ticket in group.tickets],
        held=waiting,
    )
    context = {
        "groups": groups,
        "previews": previews,
        "everything": everything,
        "waiting": waiting,
        "grand_total": everything.total,
        "identity": identity,
    }
    return context, overview.summary


async def page_context(identity: CartIdentity | None, slug: str) -> dict[str, Any]:
    """One page's cart; 404 for a page that does not exist."""
    context, summary = await page_view(current_runtime(), request_session(), identity, slug)
    if summary is not None:
        read_with_page(identity, summary)
    return context


async def page_view(
    runtime: Runtime, db: AsyncSession, identity: CartIdentity | None, slug: str
) -> tuple[dict[str, Any], CartSummary | None]:
    """`page_context`'s view, and the badge's summary when its statement read it; of no
    request's context (bp/page_lanes.py answers the page before the framework)."""
    view = await get_page_view_by_slug(
        db,
        identity=identity,
        slug=slug,
        currency=runtime.settings.currency,
        domains=runtime.domains,
    )
    page, cart = view.page, view.cart
    preview = OrderPreview(
        lines=cart.lines,
        entries=cart.entries,
        tickets=cart.tickets,
        held=view.held,
        page_id=page.id,
    )
    context = {"cart": cart, "page": page, "identity": identity, "preview": preview}
    return context, view.summary


async def changed(message: str, *, default: str) -> ResponseReturnValue:
    """Answer a cart change: the re-rendered view, the message and the badge; or a 303."""
    if not is_htmx():
        return see_other(safe_next(default))
    form = await request.form
    slug = (form.get(VIEW_FIELD) or "").strip()
    identity = current_cart_identity()
    if slug:
        context = await page_context(identity, slug)
        section = "cart/_page_cart.html"
    else:
        context = await overview_context(identity)
        section = "cart/_overview.html"
    return await render_fragment(
        "cart/_changed.html",
        section=section,
        message=message,
        **context,
        **await fetched_for_fragment(),
    )


async def added(
    message: str, *, default: str, product: ProductDTO | None = None
) -> ResponseReturnValue:
    """Answer an add: the message into #messages and the badge out of band (and the product's
    add form, fresh, in place of one that showed a refused quantity); or a 303."""
    if not is_htmx():
        return see_other(safe_next(default))
    return await render_fragment(
        "cart/_added.html",
        message=message,
        product=product,
        next_path=safe_next(default),
        **await fetched_for_fragment(),
    )
