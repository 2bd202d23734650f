"""Checkout: POST /checkout/ and /<page_slug>/checkout/, their outcome pages, SumUp's return
page and its webhook."""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Response, render_template, request
from quart.typing import ResponseReturnValue

from bp.cart.blueprints import bp
from bp.cart.request_identity import current_cart_identity, tell_next_page
from bp.cart.reserved_slugs import refuse_reserved_slug
from bp.cart.responses import outcome_answer, split_answer, start_failed_answer
from bp.cart.services.checkout import (
    AlreadyPaid,
    CheckoutNeedsReview,
    checkout_cart,
    split_checkout_pages,
)
from bp.cart.services.checkout_outcomes import OutcomeKind, OutcomeView, outcome_view
from bp.cart.services.guest_email import EMAIL_FIELD
from bp.cart.services.order_preview import MAX_FINGERPRINT_LENGTH, decode_seen
from bp.cart.services.page_cart import get_page_or_raise
from bp.cart.services.payment_errors import CheckoutStartFailed, SplitCheckoutRequired
from bp.cart.services.return_page import MAX_POLLS, ReturnView, return_view
from bp.cart.services.review import review_checkout
from bp.cart.services.webhook import read_webhook, settle_from_webhook
from bp.runtime import current_runtime, request_session
from lib.csrf import csrf_exempt
from lib.htmx import go_to, see_other
from lib.ids import ID
from lib.rate_limits import CHECKOUT, WEBHOOK, rate_class, spend_webhook_allowance

# More digits than any poll count; a longer value is not a number we use.
MAX_POLL_DIGITS = 5
# The checkout form's field with the fingerprint of what its page showed.
SEEN_FIELD = "seen"


@bp.post("/checkout/")
@rate_class(CHECKOUT)
async def checkout_whole_cart() -> ResponseReturnValue:
    """Check out the whole cart, when every line of it is paid to one merchant."""
    return await _checkout(page_slug=None)


@bp.post("/<page_slug>/checkout/")
@rate_class(CHECKOUT)
async def checkout_page(page_slug: str) -> ResponseReturnValue:
    """Check out one page's cart and go to SumUp's payment page."""
    refuse_reserved_slug(page_slug)
    return await _checkout(page_slug=page_slug)


def _review_path(page_slug: str | None, fingerprint: str) -> str:
    scope = f"/{page_slug}" if page_slug is not None else ""
    return f"{scope}/checkout/review/?{urlencode({SEEN_FIELD: fingerprint})}"


async def _checkout(*, page_slug: str | None) -> ResponseReturnValue:
    runtime = current_runtime()
    form = await request.form
    fingerprint = form.get(SEEN_FIELD)
    seen = decode_seen(fingerprint)
    if fingerprint is not None and seen is None:
        # Not a fingerprint our pages make: show the order as it is before any payment.
        return go_to(_review_path(page_slug, ""))
    try:
        started = await checkout_cart(
            request_session(),
            identity=current_cart_identity(),
            page_slug=page_slug,
            settings=runtime.settings,
            gateway=runtime.gateway,
            domains=runtime.domains,
            seen=seen,
            email=form.get(EMAIL_FIELD),
        )
    except CheckoutNeedsReview:
        return go_to(_review_path(page_slug, fingerprint or ""))
    except AlreadyPaid as paid:
        await tell_next_page(paid.message)
        return go_to(f"/orders/{paid.order_id}/")
    except SplitCheckoutRequired as split:
        return await split_answer(split)
    except CheckoutStartFailed as failure:
        return await start_failed_answer(failure)
    if started.notices:
        # The total changed from what the cart showed: the shopper sees why before paying.
        return await outcome_answer(started.order_id, "review", started.notices)
    return go_to(started.hosted_url)


@bp.get("/checkout/review/")
async def review_whole_cart() -> ResponseReturnValue:
    """The whole cart's order as a checkout would make it now, and what changed."""
    return await _review(page_slug=None)


@bp.get("/<page_slug>/checkout/review/")
async def review_page_checkout(page_slug: str) -> ResponseReturnValue:
    """One page's order as a checkout would make it now, and what changed since it was shown."""
    refuse_reserved_slug(page_slug)
    return await _review(page_slug=page_slug)


async def _review(*, page_slug: str | None) -> ResponseReturnValue:
    runtime, session = current_runtime(), request_session()
    page = (
        await get_page_or_raise(session, slug=page_slug, domains=runtime.domains)
        if page_slug is not None
        else None
    )
    fingerprint = request.args.get(SEEN_FIELD, "")[:MAX_FINGERPRINT_LENGTH]
    review = await review_checkout(
        session,
        identity=current_cart_identity(),
        page=page,
        fingerprint=fingerprint,
        settings=runtime.settings,
        domains=runtime.domains,
    )
    if review.preview.is_empty:
        return see_other(f"/{page_slug}/" if page_slug is not None else "/")
    return await render_template(
        "checkout/confirm.html", review=review, identity=current_cart_identity()
    )


@bp.get("/checkout/split/")
async def checkout_split() -> ResponseReturnValue:
    """Why the whole cart cannot be paid at once, and each page's own checkout."""
    runtime = current_runtime()
    pages = await split_checkout_pages(
        request_session(),
        identity=current_cart_identity(),
        settings=runtime.settings,
        domains=runtime.domains,
    )
    if not pages:
        # The cart changed since (or is one merchant's now): it can be checked out from there.
        return see_other("/")
    return await render_template(
        "checkout/split.html", message=SplitCheckoutRequired.message, pages=pages
    )


async def _outcome(order_id: int, kind: OutcomeKind) -> OutcomeView | ResponseReturnValue:
    runtime = current_runtime()
    view = await outcome_view(
        request_session(),
        redis=runtime.redis.cart,
        order_id=order_id,
        kind=kind,
        identity=current_cart_identity(),
    )
    if view.order.status == "paid":
        return see_other(f"/checkout/return/{order_id}/")
    if not view.is_open:
        return see_other(f"/orders/{order_id}/")
    return view


@bp.get(f"/checkout/<{ID}:order_id>/review/")
async def checkout_review(order_id: int) -> ResponseReturnValue:
    """A checkout whose total changed: what was left out, and the way on to SumUp's page."""
    view = await _outcome(order_id, "review")
    if not isinstance(view, OutcomeView):
        return view
    return await render_template(
        "checkout/review.html",
        notices=view.messages,
        hosted_url=view.hosted_url,
        order_id=order_id,
        order=view.order,
    )


@bp.get(f"/checkout/<{ID}:order_id>/not-started/")
async def checkout_not_started(order_id: int) -> ResponseReturnValue:
    """The order is saved but SumUp's payment page could not be opened: try again from here."""
    view = await _outcome(order_id, "not-started")
    if not isinstance(view, OutcomeView):
        return view
    message = view.messages[0] if view.messages else "We could not open the payment page just now."
    return await render_template("checkout/start_failed.html", message=message, order_id=order_id)


async def _return_view(order_id: int) -> ReturnView:
    runtime = current_runtime()
    return await return_view(
        request_session(),
        order_id=order_id,
        identity=current_cart_identity(),
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
    )


@bp.get(f"/checkout/return/<{ID}:order_id>/")
async def checkout_return(order_id: int) -> ResponseReturnValue:
    """Where SumUp sends the shopper back: paid, failed (pay again), or still confirming."""
    view = await _return_view(order_id)
    return await render_template("checkout/return.html", view=view, poll=1, max_polls=MAX_POLLS)


@bp.get(f"/checkout/return/<{ID}:order_id>/status")
async def checkout_return_status(order_id: int) -> ResponseReturnValue:
    """The return page's status fragment; polled while SumUp has not confirmed the payment."""
    poll = request.args.get("poll", "1")
    count = int(poll) if poll.isdecimal() and len(poll) <= MAX_POLL_DIGITS else 1
    view = await _return_view(order_id)
    if view.state != "pending":
        # Settled: the whole return page shows the outcome (and the order summary).
        return go_to(f"/checkout/return/{order_id}/")
    return await render_template(
        "checkout/_return_status.html",
        view=view,
        poll=min(count + 1, MAX_POLLS + 1),
        max_polls=MAX_POLLS,
    )


@bp.post("/checkout/webhook/<order_ref>/")
@csrf_exempt
@rate_class(WEBHOOK)
async def sumup_webhook(order_ref: str) -> ResponseReturnValue:
    """SumUp's notification that a checkout changed: a hint to ask SumUp, never trusted itself.

    204 once handled or when it is not ours; 400 for a body that is not JSON; 503 only when
    our database or SumUp could not be reached, so that SumUp delivers it again.
    """
    hint = read_webhook(await request.get_data(), order_ref=order_ref)
    if hint is not None:
        runtime = current_runtime()
        await settle_from_webhook(
            request_session(),
            hint=hint,
            settings=runtime.settings,
            gateway=runtime.gateway,
            domains=runtime.domains,
            spend_allowance=spend_webhook_allowance,
        )
    return Response("", status=204)
