"""The control API tests drive the stand-in with (not SumUp's; under /_standin/, no auth)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from quart import Blueprint, Response, request

from sumup_standin import errors
from sumup_standin.errors import StandinError
from sumup_standin.faults import FaultSwitchError
from sumup_standin.responses import error_response, json_response
from sumup_standin.serialize import format_date
from sumup_standin.state import Standin, current_standin
from sumup_standin.store import Checkout

bp = Blueprint("standin_control", __name__, url_prefix="/_standin")


@bp.get("/health")
async def health() -> Response:
    """The stand-in is up."""
    return json_response({"ok": True})


@bp.post("/reset")
async def reset() -> Response:
    """Forget every checkout, merchant setting, revoked key, fault, delivery and clock move."""
    await current_standin().reset()
    return json_response({"ok": True})


@bp.get("/faults")
async def show_faults() -> Response:
    """The fault switches that are on."""
    return json_response(current_standin().faults.describe())


@bp.post("/faults")
async def set_faults() -> Response:
    """Turn fault switches on or off (see sumup_standin.faults for the forms)."""
    standin = current_standin()
    body = await _object_body()
    if body is None:
        return _bad_request("send a JSON object of fault switches")
    try:
        async with standin.store.lock:
            standin.faults.set(body)
    except FaultSwitchError as error:
        return _bad_request(str(error))
    return json_response(standin.faults.describe())


@bp.get("/holds")
async def show_holds() -> Response:
    """How many calls are held right now, by where (`create`, `list`)."""
    return json_response(current_standin().holds.waiting())


@bp.post("/holds/<name>/release")
async def release_hold(name: str) -> Response:
    """Let the calls held at `name` go on; answers how many there were."""
    return json_response({"released": current_standin().holds.release(name)})


@bp.get("/checkouts")
async def list_checkouts() -> Response:
    """Every checkout, with the stand-in's own fields."""
    standin = current_standin()
    async with standin.store.lock:
        return json_response([standin.internal_view(c) for c in standin.store.checkouts.values()])


@bp.get("/checkouts/<checkout_id>")
async def show_checkout(checkout_id: str) -> Response:
    """One checkout, with the stand-in's own fields."""
    standin = current_standin()
    async with standin.store.lock:
        try:
            checkout = standin.get_checkout_or_raise(checkout_id)
        except StandinError as error:
            return error_response(error)
        return json_response(standin.internal_view(checkout))


@bp.get("/transactions/<transaction_id>")
async def show_transaction(transaction_id: str) -> Response:
    """One transaction as the lookup shows it, with its refunds and what is left to refund."""
    standin = current_standin()
    async with standin.store.lock:
        found = standin.store.find_transaction(transaction_id)
        if found is None:
            return error_response(errors.not_found())
        return json_response(standin.internal_transaction_view(*found))


@bp.post("/checkouts/<checkout_id>/pay")
async def pay(checkout_id: str) -> Response:
    """Pay a checkout as the shopper would (the sandbox's failing amounts fail)."""
    standin = current_standin()
    return await _change(standin, standin.pay(checkout_id))


@bp.post("/checkouts/<checkout_id>/fail")
async def fail(checkout_id: str) -> Response:
    """Fail a payment attempt on a checkout."""
    standin = current_standin()
    return await _change(standin, standin.fail(checkout_id))


@bp.post("/checkouts/<checkout_id>/expire")
async def expire(checkout_id: str) -> Response:
    """Expire a checkout as SumUp would (status EXPIRED, webhook)."""
    standin = current_standin()
    return await _change(standin, standin.expire(checkout_id))


@bp.get("/webhooks")
async def webhooks() -> Response:
    """Every webhook delivery attempt so far (`?checkout_id=` to filter)."""
    checkout_id = request.args.get("checkout_id")
    deliveries = [
        delivery
        for delivery in current_standin().webhooks.deliveries
        if checkout_id is None or delivery["checkout_id"] == checkout_id
    ]
    return json_response(deliveries)


@bp.post("/merchants/<merchant_code>")
async def configure_merchant(merchant_code: str) -> Response:
    """Set a merchant's `name` and `country` as the API and hosted page show them."""
    standin = current_standin()
    body = await _object_body()
    if body is None or not all(isinstance(body.get(k, ""), str) for k in ("name", "country")):
        return _bad_request('send {"name": "...", "country": "DE"}')
    async with standin.store.lock:
        merchant = standin.store.merchant(merchant_code)
        merchant.name = body.get("name") or merchant.name
        merchant.country = body.get("country") or merchant.country
        return json_response(vars(merchant))


@bp.post("/merchants/<merchant_code>/disable")
async def disable_merchant(merchant_code: str) -> Response:
    """Refuse this merchant's new checkouts with 403 FORBIDDEN."""
    return await _set_disabled(merchant_code, disabled=True)


@bp.post("/merchants/<merchant_code>/enable")
async def enable_merchant(merchant_code: str) -> Response:
    """Take this merchant's new checkouts again."""
    return await _set_disabled(merchant_code, disabled=False)


@bp.post("/keys/revoke")
async def revoke_key() -> Response:
    """Answer 401 to every call made with this API key."""
    standin = current_standin()
    body = await _object_body()
    api_key = body.get("api_key") if body else None
    if not isinstance(api_key, str) or not api_key:
        return _bad_request('send {"api_key": "..."}')
    async with standin.store.lock:
        standin.store.revoked_keys.add(api_key)
    return json_response({"ok": True})


@bp.get("/clock")
async def show_clock() -> Response:
    """The stand-in's current time."""
    return json_response({"now": format_date(current_standin().clock.now())})


@bp.post("/clock")
async def advance_clock() -> Response:
    """Move the stand-in's clock forward by `advance_minutes`."""
    standin = current_standin()
    body = await _object_body()
    minutes = body.get("advance_minutes") if body else None
    if not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes < 0:
        return _bad_request('send {"advance_minutes": n} with n >= 0')
    async with standin.store.lock:
        now = standin.clock.advance(minutes=minutes)
    return json_response({"now": format_date(now)})


async def _change(standin: Standin, operation: Awaitable[Checkout]) -> Response:
    """Run a status change and answer the checkout, or SumUp's error for it."""
    try:
        checkout = await operation
    except StandinError as error:
        return error_response(error)
    async with standin.store.lock:
        return json_response(standin.internal_view(checkout))


async def _set_disabled(merchant_code: str, *, disabled: bool) -> Response:
    """Disable or enable a merchant."""
    standin = current_standin()
    async with standin.store.lock:
        merchant = standin.store.merchant(merchant_code)
        merchant.disabled = disabled
        return json_response(vars(merchant))


async def _object_body() -> dict[str, Any] | None:
    """The request's JSON object, or None when it is not one."""
    body = await request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


def _bad_request(message: str) -> Response:
    """400 with a message for the test author."""
    return json_response({"error": message}, 400)
