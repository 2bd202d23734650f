"""SumUp's API routes: checkouts, refunds and the transaction lookup, behind Bearer auth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from quart import Blueprint, Response, g, request

from sumup_standin import errors
from sumup_standin.errors import RefundTooHigh, StandinError
from sumup_standin.faults import DEFAULT_5XX
from sumup_standin.holds import CREATE, LIST
from sumup_standin.responses import (
    dropped_response,
    error_response,
    forbidden_response,
    json_response,
    problem_response,
    refund_too_high_response,
    server_error_response,
    unauthorized_response,
    validation_response,
)
from sumup_standin.state import current_standin
from sumup_standin.store import Transaction
from sumup_standin.validation import validate_create, validation_error

bp = Blueprint("sumup_api", __name__)

BROKEN_JSON = object()  # a body that is there but is not JSON
# The transaction lookup's query parameters (SumUp asks for one of them), and what each
# matches; the stand-in's transactions have no foreign or client ids, so those match none.
LOOKUP_KEYS: dict[str, Callable[[Transaction], str | None]] = {
    "id": lambda txn: txn.id,
    "transaction_code": lambda txn: txn.transaction_code,
    "internal_id": lambda txn: str(txn.internal_id),
    "foreign_transaction_id": lambda txn: None,
    "client_transaction_id": lambda txn: None,
}


@bp.before_request
async def authenticate() -> Response | None:
    """Every API call needs a Bearer key; any key works unless it was revoked."""
    standin = current_standin()
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or key in standin.store.revoked_keys:
        legacy = bool(standin.faults.take("legacy_auth_errors"))
        return unauthorized_response(token_given=bool(key), legacy=legacy)
    g.api_key = key
    return None


@bp.post("/v0.1/checkouts")
async def create_checkout() -> Response:
    """Create a checkout (201), or answer 400, 403 or 409 as SumUp does."""
    standin = current_standin()
    if standin.faults.take("hold_create"):
        await standin.holds.wait(CREATE)
    failure = standin.faults.take("fail_create_5xx")
    if failure:
        return server_error_response(int(failure))
    checkout_request, problems = validate_create(await _json_body())
    if checkout_request is None:
        single = bool(standin.faults.take("single_object_validation_errors"))
        return validation_response(problems, single_object=single)
    async with standin.store.lock:
        if standin.store.merchant(checkout_request.merchant_code).disabled:
            return forbidden_response()
        duplicate = standin.store.find_by_reference(
            checkout_request.merchant_code, checkout_request.checkout_reference
        )
        if duplicate is not None:
            return error_response(errors.duplicated_checkout())
        checkout = standin.create_checkout(checkout_request, api_key=g.api_key)
        body = standin.view(checkout)
    # The checkout exists before the delay, like a real answer lost to a client timeout.
    await _sleep_for("slow_create_seconds")
    return json_response(body, 201)


@bp.get("/v0.1/checkouts/<checkout_id>")
async def get_checkout(checkout_id: str) -> Response:
    """One checkout, or 404 when it is unknown or another merchant's."""
    standin = current_standin()
    failure = await _get_faults()
    if failure is not None:
        return failure
    async with standin.store.lock:
        try:
            checkout = standin.get_checkout_or_raise(checkout_id, api_key=g.api_key)
        except StandinError as error:
            return error_response(error)
        return json_response(standin.view(checkout))


@bp.get("/v0.1/checkouts")
async def list_checkouts() -> Response:
    """The checkouts with this `checkout_reference` (all when absent); [] when none."""
    standin = current_standin()
    failure = await _get_faults()
    if failure is not None:
        return failure
    reference = request.args.get("checkout_reference")
    async with standin.store.lock:
        found = [
            standin.view(checkout)
            for checkout in standin.store.visible(g.api_key)
            if reference is None or checkout.checkout_reference == reference
        ]
    if standin.faults.take("hold_list"):
        await standin.holds.wait(LIST)
    return json_response(found)


@bp.delete("/v0.1/checkouts/<checkout_id>")
async def deactivate_checkout(checkout_id: str) -> Response:
    """Deactivate a checkout: 200 with status EXPIRED, or 409 once it is paid."""
    standin = current_standin()
    try:
        checkout = await standin.expire(checkout_id, api_key=g.api_key)
    except StandinError as error:
        return error_response(error)
    async with standin.store.lock:
        return json_response(standin.view(checkout))


@bp.post("/v0.1/me/refund/<transaction_id>")
async def legacy_refund(transaction_id: str) -> Response:
    """Refund in full (no body) or in part (`{"amount": x}`): 204, 404 or 409."""
    standin = current_standin()
    failure = standin.faults.take("fail_refund_5xx")
    if failure:
        return server_error_response(int(failure))
    amount = _refund_amount(await _json_body())
    if isinstance(amount, Response):
        return amount
    if _refund_after_5xx(transaction_id, amount):
        return server_error_response(DEFAULT_5XX)
    try:
        await standin.refund(api_key=g.api_key, transaction_id=transaction_id, amount=amount)
    except StandinError as error:
        return error_response(error)
    return await _answer_made_refund(Response("", status=204))


@bp.post("/v1.0/merchants/<merchant_code>/payments/<transaction_id>/refunds")
async def refund(merchant_code: str, transaction_id: str) -> Response:
    """The current refund endpoint: 201 `{}`, errors as Problem JSON (422 for too much)."""
    standin = current_standin()
    failure = standin.faults.take("fail_refund_5xx")
    if failure:
        return server_error_response(int(failure))
    amount = _refund_amount(await _json_body())
    if isinstance(amount, Response):
        return problem_response(400, "Bad Request", "amount must be greater than zero", "invalid")
    if _refund_after_5xx(transaction_id, amount, merchant_code=merchant_code):
        return server_error_response(DEFAULT_5XX)
    try:
        await standin.refund(
            api_key=g.api_key,
            transaction_id=transaction_id,
            amount=amount,
            merchant_code=merchant_code,
        )
    except RefundTooHigh as error:
        return refund_too_high_response(error.max_refundable)
    except StandinError as error:
        if error.status == 404:
            return problem_response(404, "Not Found", "Transaction not found", "not-found")
        return problem_response(409, "Conflict", error.message, "conflict")
    return await _answer_made_refund(json_response({}, 201))


@bp.get("/v2.1/merchants/<merchant_code>/transactions")
async def get_transaction(merchant_code: str) -> Response:
    """One transaction by `id` or `transaction_code`, with its refunds; 404 if not this key's."""
    standin = current_standin()
    failure = standin.faults.take("fail_transaction_get_5xx")
    if failure:
        return server_error_response(int(failure))
    await _sleep_for("slow_transaction_get_seconds")
    wanted = {key: request.args[key] for key in LOOKUP_KEYS if key in request.args}
    if not wanted:
        detail = f"one of {', '.join(LOOKUP_KEYS)} is required"
        return problem_response(400, "Bad Request", detail, "bad-request")
    async with standin.store.lock:
        for checkout, txn in standin.store.visible_transactions(g.api_key, merchant_code):
            if all(LOOKUP_KEYS[key](txn) == value for key, value in wanted.items()):
                return json_response(standin.transaction_view(checkout, txn))
    return error_response(errors.not_found())


async def _json_body() -> Any:
    """The request's JSON whatever its Content-Type; None when empty, BROKEN_JSON when broken."""
    raw = await request.get_data(as_text=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return BROKEN_JSON


def _refund_amount(body: Any) -> Decimal | Response | None:
    """The partial amount of a refund request, None for a full refund, or the 400 answer."""
    if body is None:
        return None
    amount = body.get("amount") if isinstance(body, dict) else BROKEN_JSON
    if amount is None:
        return None
    if not isinstance(amount, int | float) or isinstance(amount, bool) or not amount > 0:
        return validation_response([validation_error("INVALID", "amount")], single_object=True)
    return Decimal(str(amount))


def _refund_after_5xx(
    transaction_id: str, amount: Decimal | None, *, merchant_code: str | None = None
) -> bool:
    """Whether the refund_after_5xx_seconds switch takes this refund: it is then made later,
    and answered 5xx now."""
    standin = current_standin()
    seconds = standin.faults.take("refund_after_5xx_seconds")
    if not seconds:
        return False
    standin.refund_later(
        float(seconds),
        api_key=g.api_key,
        transaction_id=transaction_id,
        amount=amount,
        merchant_code=merchant_code,
    )
    return True


async def _answer_made_refund(answer: Response) -> Response:
    """The answer to a refund that was made, unless a switch loses or spoils it."""
    faults = current_standin().faults
    failure = faults.take("fail_refund_5xx_after_apply")
    if failure:
        return server_error_response(int(failure))
    if faults.take("drop_refund_answer"):
        return dropped_response()
    await _sleep_for("slow_refund_seconds")
    return answer


async def _get_faults() -> Response | None:
    """Apply the fail_get_5xx and slow_get_seconds switches to a read."""
    failure = current_standin().faults.take("fail_get_5xx")
    if failure:
        return server_error_response(int(failure))
    await _sleep_for("slow_get_seconds")
    return None


async def _sleep_for(switch: str) -> None:
    """Sleep as long as a slow_* switch says, if it is on."""
    seconds = current_standin().faults.take(switch)
    if seconds:
        await asyncio.sleep(float(seconds))
