"""A refused quantity answered by its field: the message next to the box, the value kept.

The error keeps its status, code and message (lib/errors.py); only where it lands changes. For
HTMX the form's own view is swapped in place with the field marked, and the message is also
announced in the error toasts; a plain form post gets a 303 to the page it came from, which
shows the same (seed 002). An error from a route with no such field is answered as any other.
"""

from __future__ import annotations

from quart import Response, g, render_template, request
from quart.typing import ResponseReturnValue

from bp.cart.blueprints import bp
from bp.cart.request_identity import browser_session, current_cart_identity
from bp.cart.services.field_problems import FieldProblem, remember_problem
from bp.cart.services.guest_email import EMAIL_FIELD, EMAIL_INPUT_ID
from bp.cart.template_helpers import PROBLEMS_KEY
from bp.cart.views import VIEW_FIELD, overview_context, page_context
from bp.cart.waiting_mark import mark_waiting
from bp.runtime import current_runtime, request_session
from lib.error_handlers import error_response
from lib.errors import FieldError
from lib.htmx import is_htmx, safe_next, see_other

CHECKOUT_ENDPOINTS = frozenset({"cart.checkout_page", "cart.checkout_whole_cart"})


def field_id_of(error: FieldError) -> str | None:
    """The id of the input the error belongs to, on the page that shows it."""
    args = request.view_args or {}
    if request.endpoint == "cart.set_line_quantity":
        return f"{error.field}-{args['item_id']}"
    if request.endpoint == "cart.add_to_cart":
        return f"add-{args['product_id']}"
    if request.endpoint in CHECKOUT_ENDPOINTS and error.field == EMAIL_FIELD:
        return EMAIL_INPUT_ID
    return None


@bp.errorhandler(FieldError)
async def answer_field_error(error: FieldError) -> ResponseReturnValue:
    """The message by the field (a fragment for HTMX, else a 303 to the page with the field)."""
    field_id = field_id_of(error)
    if field_id is None:
        return await error_response(error.status, error.code, error.message)
    problem = FieldProblem(message=error.message, value=error.value)
    if not is_htmx():
        shared = browser_session()
        if shared is not None and shared.sid:
            await remember_problem(
                current_runtime().redis.cart,
                session_sid=shared.sid,
                field_id=field_id,
                problem=problem,
            )
            mark_waiting()
        return see_other(safe_next(_page_of_form()))
    setattr(g, PROBLEMS_KEY, {field_id: problem})
    if request.endpoint == "cart.add_to_cart":
        return await _add_form_refused(error, field_id)
    return await _view_refused(error)


def _page_of_form() -> str:
    """The cart page the refused form was on, when no `?next=` says otherwise."""
    slug = (request.view_args or {}).get("page_slug")
    return f"/{slug}/" if request.endpoint == "cart.checkout_page" and slug else "/"


async def _view_refused(error: FieldError) -> ResponseReturnValue:
    """The cart view the form sits in, re-rendered with the field marked, and the toast."""
    form = await request.form
    slug = (form.get(VIEW_FIELD) or "").strip()
    identity = current_cart_identity()
    if slug:
        context = await page_context(identity, slug)
        section = "cart/_page_cart.html"
    else:
        context = await overview_context(identity)
        section = "cart/_overview.html"
    body = await render_template(
        "cart/_refused.html", section=section, code=error.code, message=error.message, **context
    )
    return Response(body, status=error.status, mimetype="text/html")


async def _add_form_refused(error: FieldError, field_id: str) -> ResponseReturnValue:
    """The add-to-cart form, swapped in place of itself with the field marked, and the toast."""
    product_id = int(field_id.removeprefix("add-"))
    product = await current_runtime().domains.market.product(request_session(), product_id)
    if product is None:
        return await error_response(error.status, error.code, error.message)
    body = await render_template(
        "cart/_add_refused.html",
        product=product,
        next_path=safe_next("/"),
        code=error.code,
        message=error.message,
    )
    response = Response(body, status=error.status, mimetype="text/html")
    response.headers["HX-Retarget"] = f"#add-form-{product_id}"
    response.headers["HX-Reswap"] = "outerHTML"
    return response
