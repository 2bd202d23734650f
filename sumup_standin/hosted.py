"""The hosted payment page a shopper is sent to: pay, fail, and the result pages."""

from __future__ import annotations

from decimal import Decimal

from quart import Blueprint, Response, render_template, url_for

from sumup_standin.errors import StandinError
from sumup_standin.state import Standin, current_standin
from sumup_standin.store import FAILED, PAID, Checkout

bp = Blueprint("hosted", __name__)

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF "}


def format_amount(amount: Decimal, currency: str) -> str:
    """An amount as a shopper reads it: €12.50, or 12.50 SEK."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{amount.quantize(Decimal('0.01')):,}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@bp.get("/pay/c-<checkout_id>")
async def pay_page(checkout_id: str) -> Response:
    """The payment page, or the page for where the checkout now is."""
    standin = current_standin()
    checkout = _hosted_checkout(standin, checkout_id)
    if checkout is None:
        return await _page("not_found.html", 404)
    if checkout.status == PAID:
        return await _page("success.html", 200, standin, checkout)
    if standin.session_expired(checkout):
        return await _page("expired.html", 410, standin, checkout)
    return await _page("pay.html", 200, standin, checkout)


@bp.post("/pay/c-<checkout_id>/pay")
async def pay(checkout_id: str) -> Response:
    """The shopper pays (the sandbox's failing amounts fail)."""
    return await _attempt(checkout_id, pay=True)


@bp.post("/pay/c-<checkout_id>/fail")
async def fail(checkout_id: str) -> Response:
    """The shopper's payment fails."""
    return await _attempt(checkout_id, pay=False)


@bp.get("/pay/c-<checkout_id>/success")
async def success_page(checkout_id: str) -> Response:
    """The success page, once the checkout is paid."""
    standin = current_standin()
    checkout = _hosted_checkout(standin, checkout_id)
    if checkout is None:
        return await _page("not_found.html", 404)
    if checkout.status != PAID:
        return _see_other(checkout_id)
    return await _page("success.html", 200, standin, checkout)


@bp.get("/pay/c-<checkout_id>/failed")
async def failed_page(checkout_id: str) -> Response:
    """The failure page, with a way to try again."""
    standin = current_standin()
    checkout = _hosted_checkout(standin, checkout_id)
    if checkout is None:
        return await _page("not_found.html", 404)
    if checkout.status != FAILED or standin.session_expired(checkout):
        return _see_other(checkout_id)
    return await _page("failed.html", 200, standin, checkout)


async def _attempt(checkout_id: str, *, pay: bool) -> Response:
    """Pay or fail from the page, then show the outcome (POST, redirect, GET)."""
    standin = current_standin()
    checkout = _hosted_checkout(standin, checkout_id)
    if checkout is None:
        return await _page("not_found.html", 404)
    if checkout.status == PAID or standin.session_expired(checkout):
        return _see_other(checkout_id)
    try:
        checkout = await (standin.pay(checkout_id) if pay else standin.fail(checkout_id))
    except StandinError:
        # Another tab or the control API got there first; the page shows where it is now.
        return _see_other(checkout_id)
    endpoint = "hosted.success_page" if checkout.status == PAID else "hosted.failed_page"
    return _redirect(url_for(endpoint, checkout_id=checkout_id))


def _hosted_checkout(standin: Standin, checkout_id: str) -> Checkout | None:
    """The checkout behind a hosted page, if it exists and was created hosted."""
    checkout = standin.store.checkouts.get(checkout_id)
    return checkout if checkout is not None and checkout.hosted else None


def _see_other(checkout_id: str) -> Response:
    """Back to the checkout's page, which shows its current state."""
    return _redirect(url_for("hosted.pay_page", checkout_id=checkout_id))


def _redirect(location: str) -> Response:
    """A 303, so that the browser GETs the page after a POST."""
    return Response("", status=303, headers={"Location": location})


async def _page(
    template: str,
    status: int,
    standin: Standin | None = None,
    checkout: Checkout | None = None,
) -> Response:
    """Render one of the hosted pages."""
    merchant = standin.store.merchant(checkout.merchant_code) if standin and checkout else None
    html = await render_template(
        f"standin/{template}",
        checkout=checkout,
        merchant=merchant,
        amount=format_amount(checkout.amount, checkout.currency) if checkout else None,
    )
    # The page is someone's payment: never from a cache.
    return Response(html, status=status, headers={"Cache-Control": "no-store"})
