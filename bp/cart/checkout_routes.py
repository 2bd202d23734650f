"""Checkout: POST /checkout/ and /<page_slug>/checkout/, SumUp's return page and its webhook."""

from __future__ import annotations

import json
import logging
from typing import Any

from quart import Response, current_app, render_template, request
from quart.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bp.cart import ID, bp
from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.checkout import create_order_from_cart
from bp.cart.services.identity import current_cart_identity
from bp.cart.services.payment_attempts import start_payment
from bp.cart.services.return_page import MAX_POLLS, return_view
from lib import lifecycle
from lib.csrf import csrf_exempt
from lib.db import request_session
from lib.errors import BadRequest, NotFound, ServiceError
from lib.htmx import is_htmx, see_other
from services.contracts.dtos import PageDTO
from services.payments import reconciler  # noqa: F401  (registers the reconciler job)
from services.payments.errors import (
    CheckoutStartFailed,
    PaymentProviderUnavailable,
    SplitCheckoutRequired,
)
from services.payments.runtime import gateway_of
from services.registry import services

# SumUp's classic webhook, and the newer event envelope (reference §5a, §5b).
STATUS_CHANGED = "CHECKOUT_STATUS_CHANGED"
CHECKOUT_EVENT_PREFIXES = ("checkout.", "checkouts.")
MAX_CHECKOUT_ID_LENGTH = 64
MAX_ORDER_ID = 2**63 - 1

log = logging.getLogger(__name__)


@bp.post("/checkout/")
async def checkout_cart() -> ResponseReturnValue:
    """Check out the whole cart, when every line of it is paid to one merchant."""
    return await _checkout(page=None)


@bp.post("/<page_slug>/checkout/")
async def checkout_page(page_slug: str) -> ResponseReturnValue:
    """Check out one page's cart and go to SumUp's payment page."""
    page = await services.blog.page_by_slug(request_session(), page_slug)
    if page is None:
        raise NotFound("We could not find that page.", code="PAGE_NOT_FOUND")
    return await _checkout(page=page)


async def _checkout(*, page: PageDTO | None) -> ResponseReturnValue:
    identity = current_cart_identity(create=False)
    if identity is None:
        raise BadRequest("Your cart is empty.", code="CART_EMPTY")
    session, settings = request_session(), lifecycle.settings_of(current_app)
    gateway = gateway_of(current_app)
    try:
        start = await create_order_from_cart(
            session, identity=identity, page=page, settings=settings, gateway=gateway
        )
        url = await start_payment(
            session, order_id=start.order_id, gateway=gateway, settings=settings
        )
    except SplitCheckoutRequired as split:
        return await _split_answer(split)
    except CheckoutStartFailed as failure:
        return await start_failed_answer(failure)
    if start.notices:
        # The total changed from what the cart showed: the shopper sees why before paying.
        body = await render_template(
            "checkout/review.html",
            notices=start.notices,
            hosted_url=url,
            order_id=start.order_id,
        )
        return Response(body, mimetype="text/html")
    return go_to(url)


def go_to(url: str) -> ResponseReturnValue:
    """Send the browser to `url`: a 303, or for HTMX an HX-Redirect (SumUp is another site)."""
    if is_htmx():
        return Response("", status=200, headers={"HX-Redirect": url})
    return see_other(url)


async def start_failed_answer(failure: CheckoutStartFailed) -> Response:
    """The order is saved but SumUp's page could not be opened: say so, offer to try again."""
    return await _problem(
        "checkout/_start_failed.html",
        "checkout/start_failed.html",
        failure.status,
        message=failure.message,
        order_id=failure.order_id,
    )


async def _split_answer(split: SplitCheckoutRequired) -> Response:
    """A cart paid to several merchants: explain, and link each page's own checkout."""
    return await _problem(
        "checkout/_split.html",
        "checkout/split.html",
        split.status,
        message=split.message,
        pages=split.pages,
    )


async def _problem(fragment: str, page: str, status: int, **context: Any) -> Response:
    """A checkout problem: for HTMX the fragment in the page's message region, else the page."""
    body = await render_template(fragment if is_htmx() else page, **context)
    response = Response(body, status=status, mimetype="text/html")
    if is_htmx():
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.get(f"/checkout/return/<{ID}:order_id>/")
async def checkout_return(order_id: int) -> ResponseReturnValue:
    """Where SumUp sends the shopper back: paid, failed (pay again), or still confirming."""
    view = await return_view(
        request_session(),
        order_id=order_id,
        identity=current_cart_identity(create=False),
        gateway=gateway_of(current_app),
        settings=lifecycle.settings_of(current_app),
    )
    return await render_template("checkout/return.html", view=view, poll=1, max_polls=MAX_POLLS)


@bp.get(f"/checkout/return/<{ID}:order_id>/status")
async def checkout_return_status(order_id: int) -> ResponseReturnValue:
    """The return page's status fragment; polled while SumUp has not confirmed the payment."""
    poll = request.args.get("poll", "1")
    count = int(poll) if poll.isdecimal() and len(poll) < 6 else 1
    view = await return_view(
        request_session(),
        order_id=order_id,
        identity=current_cart_identity(create=False),
        gateway=gateway_of(current_app),
        settings=lifecycle.settings_of(current_app),
    )
    if view.state != "pending":
        # Settled: the whole return page shows the outcome (and the order summary).
        location = f"/checkout/return/{order_id}/"
        if is_htmx():
            return Response("", status=200, headers={"HX-Redirect": location})
        return see_other(location)
    return await render_template(
        "checkout/_return_status.html",
        view=view,
        poll=min(count + 1, MAX_POLLS + 1),
        max_polls=MAX_POLLS,
    )


@bp.post("/checkout/webhook/<order_ref>/")
@csrf_exempt
async def sumup_webhook(order_ref: str) -> ResponseReturnValue:
    """SumUp's notification that a checkout changed: a hint to ask SumUp, never trusted itself.

    204 once handled or when it is not ours; 400 for a body that is not JSON; 503 only when
    our database or SumUp could not be reached, so that SumUp delivers it again.
    """
    raw = await request.get_data()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadRequest("The webhook body must be a JSON object.", code="INVALID_WEBHOOK")
    checkout_id = _checkout_id_of(body)
    order_id = int(order_ref) if order_ref.isdecimal() and len(order_ref) < 20 else 0
    if checkout_id is None or not 0 < order_id <= MAX_ORDER_ID:
        log.info("webhook for %r ignored: %s", order_ref, _describe(body))
        return Response("", status=204)
    try:
        settlement = await check_sumup_status(
            request_session(),
            order_id=order_id,
            gateway=gateway_of(current_app),
            settings=lifecycle.settings_of(current_app),
            checkout_id=checkout_id,
            source="webhook",
        )
    except NotFound:
        log.warning("webhook for unknown order %s (checkout %s) ignored", order_id, checkout_id)
        return Response("", status=204)
    except PaymentProviderUnavailable as error:
        raise ServiceError(503, error.code, "SumUp could not be reached; deliver again.") from error
    except (DBAPIError, PoolTimeoutError, OSError) as error:
        log.error("webhook for order %s: database unreachable: %s", order_id, error)
        raise ServiceError(
            503, "DATABASE_UNAVAILABLE", "The database could not be reached; deliver again."
        ) from error
    log.info(
        "webhook for order %s (checkout %s): %s%s",
        order_id,
        checkout_id,
        settlement.status,
        " (changed)" if settlement.changed else "",
    )
    return Response("", status=204)


def _checkout_id_of(body: dict[str, Any]) -> str | None:
    """The checkout a webhook names, or None when the event is not a checkout change."""
    if "event_type" in body:
        candidate = body.get("id") if body.get("event_type") == STATUS_CHANGED else None
    else:
        event_type, subject = body.get("type"), body.get("object")
        is_checkout = isinstance(event_type, str) and event_type.startswith(CHECKOUT_EVENT_PREFIXES)
        candidate = subject.get("id") if is_checkout and isinstance(subject, dict) else None
    if isinstance(candidate, str) and 0 < len(candidate) <= MAX_CHECKOUT_ID_LENGTH:
        return candidate
    return None


def _describe(body: dict[str, Any]) -> str:
    """A short, safe description of a webhook body for the log."""
    return str({key: body[key] for key in ("event_type", "type", "id") if key in body})[:200]
