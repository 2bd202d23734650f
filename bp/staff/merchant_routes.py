"""/staff/merchants/: each page's SumUp merchant; a connection test, then the change."""

from __future__ import annotations

from quart import Response, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bp.runtime import current_runtime, request_session
from bp.staff.blueprint import bp
from bp.staff.gate import current_staff_user_id
from bp.staff.services.merchant_console import (
    page_merchant_or_raise,
    page_merchants,
    parse_merchant_form,
    staff_set_page_merchant,
    staff_test_connection,
)
from bp.staff.views import render_staff
from lib.errors import ServiceError
from lib.htmx import go_to, is_htmx, see_other
from lib.rate_limits import CHECKOUT, rate_class

SLUG = "string(maxlength=255)"


@bp.get("/merchants/")
async def merchants() -> Response:
    """Every page and the merchant it is paid to."""
    found = await page_merchants(request_session(), domains=current_runtime().domains)
    return await render_staff("staff/merchants.html", merchants=found)


@bp.get(f"/merchants/<{SLUG}:page_slug>/")
async def merchant(page_slug: str) -> Response:
    """The form that sets or changes a page's merchant (the stored key is never shown)."""
    found = await page_merchant_or_raise(
        request_session(), page_slug=page_slug, domains=current_runtime().domains
    )
    return await render_staff(
        "staff/merchant.html", merchant=found, tested=request.args.get("tested", "")
    )


@bp.post(f"/merchants/<{SLUG}:page_slug>/test/")
@rate_class(CHECKOUT)
async def test_connection(page_slug: str) -> Response | WerkzeugResponse:
    """Ask SumUp whether the key and merchant code work; nothing is saved. HTMX gets the
    outcome in place (the typed key stays in the form); a plain form post, a redirect."""
    form = await request.form
    merchant_form = parse_merchant_form(
        merchant_code=form.get("merchant_code", ""), api_key=form.get("api_key", "")
    )
    try:
        said = await staff_test_connection(
            request_session(),
            staff_user_id=current_staff_user_id(),
            page_slug=page_slug,
            form=merchant_form,
            gateway=current_runtime().gateway,
        )
    except ServiceError as error:
        if not is_htmx():
            return see_other(f"/staff/merchants/{page_slug}/?tested=failed")
        body = await render_template(
            "staff/_connection_result.html", passed=False, message=error.message
        )
        return Response(body, status=200, mimetype="text/html")
    if not is_htmx():
        return see_other(f"/staff/merchants/{page_slug}/?tested=passed")
    body = await render_template("staff/_connection_result.html", passed=True, message=said)
    return Response(body, mimetype="text/html")


@bp.post(f"/merchants/<{SLUG}:page_slug>/")
@rate_class(CHECKOUT)
async def set_merchant(page_slug: str) -> Response | WerkzeugResponse:
    """Test the connection, then pay the page to this merchant."""
    runtime = current_runtime()
    form = await request.form
    merchant_form = parse_merchant_form(
        merchant_code=form.get("merchant_code", ""),
        api_key=form.get("api_key", ""),
        checkout_prefix=form.get("checkout_prefix", ""),
    )
    await staff_set_page_merchant(
        request_session(),
        staff_user_id=current_staff_user_id(),
        page_slug=page_slug,
        form=merchant_form,
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
    )
    return go_to("/staff/merchants/?done=set_merchant")
