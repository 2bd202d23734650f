"""Fault switches: misbehaviours of SumUp that tests turn on through the control API.

Each switch is set with a bare value, which holds until reset or switched off
(`false`, `0` or `null`), or with `{"value": v, "times": n}`, which applies to the next n
occasions only. The exceptions are the `fail_*_5xx` switches, where a bare integer N means
"the next N calls" (`true` means every call, and `{"value": 503, "times": 2}` picks the status).

The refund switches cover each way a refund's outcome can be lost or refused, on both refund
endpoints:
- `fail_refund_5xx`: the refund is answered 5xx and not made.
- `fail_refund_5xx_after_apply`: the refund is made, then answered 5xx.
- `slow_refund_seconds`: the refund is made, then answered only after this many seconds (a
  client with a shorter timeout gives up on a refund that went through).
- `drop_refund_answer`: the refund is made, then the connection closes before a whole answer.
- `refund_after_5xx_seconds`: the refund is answered 5xx at once and made this many seconds
  later (SumUp's 5xx does not prove that nothing will be refunded).
The after-apply switches count only refunds that were made; a refused refund (404, 409, 422)
leaves them as they are. `fail_transaction_get_5xx` and `slow_transaction_get_seconds` do for
the transaction lookup what `fail_get_5xx` and `slow_get_seconds` do for checkout reads, and
`transaction_lag` N makes the next N lookups of a transaction just refunded show it without
that refund (SumUp's view catches up later).

`transaction_status` shows every transaction of the checkouts read with this status (one
SumUp may add: the client must still read the checkout).

`hold_create` and `hold_list` hold a checkout create (before the checkout exists) or a listing
(after its answer was read) until the control API releases it (sumup_standin.holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What an occasion is, per switch: a status change for the webhook switches, a payment for
# status_lag, a refund made for transaction_lag and the after-apply refund switches, an API
# call for the rest.
FLAG_SWITCHES = frozenset(
    {
        "duplicate_webhook",
        "drop_webhook",
        "legacy_auth_errors",
        "single_object_validation_errors",
        "omit_transaction_fields",
        "drop_refund_answer",
        "hold_create",
        "hold_list",
    }
)
SECONDS_SWITCHES = frozenset(
    {
        "delay_webhook_seconds",
        "slow_create_seconds",
        "slow_get_seconds",
        "slow_refund_seconds",
        "slow_transaction_get_seconds",
        "refund_after_5xx_seconds",
    }
)
COUNT_SWITCHES = frozenset({"status_lag", "transaction_lag"})
# A status SumUp may add one day, shown on every transaction of a checkout read.
STRING_SWITCHES = frozenset({"transaction_status"})
HTTP_ERROR_SWITCHES = frozenset(
    {
        "fail_create_5xx",
        "fail_get_5xx",
        "fail_refund_5xx",
        "fail_refund_5xx_after_apply",
        "fail_transaction_get_5xx",
    }
)
ALL_SWITCHES = (
    FLAG_SWITCHES | SECONDS_SWITCHES | COUNT_SWITCHES | HTTP_ERROR_SWITCHES | STRING_SWITCHES
)
DEFAULT_5XX = 500


class FaultSwitchError(ValueError):
    """A switch the control API cannot take: unknown name or unusable value."""


@dataclass
class Fault:
    """One switch that is on: its value, and how many more occasions it applies to."""

    value: Any
    remaining: int | None  # None: until reset or switched off


class Faults:
    """The switches that are on right now."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}

    def set(self, switches: dict[str, Any]) -> None:
        """Turn switches on or off; nothing changes if any of them is invalid."""
        parsed = {name: _parse(name, raw) for name, raw in switches.items()}
        for name, fault in parsed.items():
            if fault is None:
                self._faults.pop(name, None)
            else:
                self._faults[name] = fault

    def take(self, name: str) -> Any:
        """Use the switch for one occasion: its value, or None when it is off."""
        fault = self._faults.get(name)
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[name]
        return fault.value

    def clear(self) -> None:
        """Turn every switch off."""
        self._faults.clear()

    def describe(self) -> dict[str, dict[str, Any]]:
        """The switches that are on, for the control API."""
        return {
            name: {"value": fault.value, "times": fault.remaining}
            for name, fault in sorted(self._faults.items())
        }


def _parse(name: str, raw: Any) -> Fault | None:
    """Read one switch as the control API received it; None turns it off."""
    if name not in ALL_SWITCHES:
        raise FaultSwitchError(f"unknown fault switch {name!r}; known: {sorted(ALL_SWITCHES)}")
    if raw is None or raw is False or (_is_number(raw) and raw == 0):
        return None
    if isinstance(raw, dict):
        unknown = set(raw) - {"value", "times"}
        if unknown:
            raise FaultSwitchError(f"{name}: unknown keys {sorted(unknown)}")
        times = raw.get("times")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool)):
            raise FaultSwitchError(f"{name}: times must be an integer")
        if times is not None and times <= 0:
            return None
        value = raw.get("value", True)
        if value is None or value is False:
            return None
        return Fault(_value(name, value), times)
    if name in HTTP_ERROR_SWITCHES and raw is not True:
        if not isinstance(raw, int) or raw < 0:
            raise FaultSwitchError(f"{name}: give a number of calls, true, or an object")
        return Fault(DEFAULT_5XX, raw)
    return Fault(_value(name, raw), None)


def _value(name: str, value: Any) -> Any:
    """Check a switch's value against what the switch means."""
    if name in FLAG_SWITCHES:
        if value is not True:
            raise FaultSwitchError(f"{name}: takes true or false")
        return True
    if name in HTTP_ERROR_SWITCHES:
        if value is True:
            return DEFAULT_5XX
        if not isinstance(value, int) or isinstance(value, bool) or not 500 <= value <= 599:
            raise FaultSwitchError(f"{name}: value must be a 5xx status")
        return value
    if name in STRING_SWITCHES:
        if not isinstance(value, str) or not value.strip():
            raise FaultSwitchError(f'{name}: value must be a status such as "ON_HOLD"')
        return value
    if name in COUNT_SWITCHES:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise FaultSwitchError(f"{name}: value must be a number of lookups")
        return value
    if not _is_number(value) or value < 0:
        raise FaultSwitchError(f"{name}: value must be a number of seconds")
    return float(value)


def _is_number(value: Any) -> bool:
    """A JSON number (booleans are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)
