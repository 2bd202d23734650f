"""Every error code has its one message in lib/error_codes.py, and no code is written inline."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from lib.error_codes import MESSAGES, ErrorCode, message_of
from lib.errors import BadRequest, NotFound, ServiceError

ROOT = Path(__file__).resolve().parents[2]
# Values for the codes whose sentence is written by a function: each wording they can give.
FUNCTION_VALUES: dict[ErrorCode, list[dict[str, object]]] = {
    ErrorCode.MISSING_IDENTITY: [{"both": False}, {"both": True}],
    ErrorCode.NOT_ENOUGH_TICKETS: [
        {"left": 1, "ticket_type": "Adult", "event": "Gig"},
        {"left": 2, "ticket_type": "Adult", "event": "Gig"},
    ],
    ErrorCode.NOTHING_TO_RESEND: [
        {"order_id": 4, "status": "pending"},
        {"order_id": 4, "status": "skipped"},
        {"order_id": 4, "status": None},
    ],
    ErrorCode.SESSION_FULLY_BOOKED: [
        {"session": "“Taster”", "available": 0, "wanted": 1},
        {"session": "“Taster”", "available": 1, "wanted": 2},
        {"session": "“Taster”", "available": 2, "wanted": 3},
    ],
    ErrorCode.TICKETS_SOLD_OUT: [
        {"tickets": "Tickets", "event": "Gig", "available": 0},
        {"tickets": "Tickets", "event": "Gig", "available": 1},
        {"tickets": "Tickets", "event": "Gig", "available": 2},
    ],
    ErrorCode.TOO_MANY_REQUESTS: [{"wait": 1}, {"wait": 30}],
}
# Codes that say the same sentence on purpose: the address typed and the shop page named in
# it are both "a page" to the person reading, and both are not there.
# A quantity missing, not whole, or out of bounds breaks one rule, said one way everywhere.
SAME_MESSAGE = {
    frozenset({ErrorCode.NOT_FOUND, ErrorCode.PAGE_NOT_FOUND}),
    frozenset(
        {ErrorCode.INVALID_QUANTITY, ErrorCode.QUANTITY_MISSING, ErrorCode.QUANTITY_NOT_WHOLE}
    ),
}


def wordings(code: ErrorCode) -> list[str]:
    """The wordings a code can give: its template, or what its function says for each case."""
    message = MESSAGES[code]
    if callable(message):
        return [message(**values) for values in FUNCTION_VALUES[code]]
    return [message]


def test_every_code_has_one_message_and_is_spelled_as_it_is_named() -> None:
    assert set(MESSAGES) == set(ErrorCode)
    for code in ErrorCode:
        assert code.value == code.name
        assert all(wording.strip() for wording in wordings(code)), code


def test_a_code_with_a_function_gives_each_of_its_wordings() -> None:
    functions = {code for code, message in MESSAGES.items() if callable(message)}
    assert functions == set(FUNCTION_VALUES)
    assert message_of(ErrorCode.TOO_MANY_REQUESTS, wait=1) == (
        "Too many requests in a short time. Please wait 1 second and try again."
    )
    booked = message_of(ErrorCode.SESSION_FULLY_BOOKED, session="“T”", available=1, wanted=2)
    assert booked == "Only 1 place is left at “T”, and your cart has 2. Please change your cart."


def test_no_two_codes_say_the_same_thing() -> None:
    codes_of: dict[str, set[ErrorCode]] = defaultdict(set)
    for code in ErrorCode:
        for wording in wordings(code):
            codes_of[wording].add(code)
    shared = {frozenset(codes) for codes in codes_of.values() if len(codes) > 1}
    assert shared == SAME_MESSAGE


def test_an_error_carries_its_codes_message_filled_in() -> None:
    error = ServiceError(409, ErrorCode.ORDER_CLOSED, status="expired")

    assert (error.status, error.code, error.message) == (
        409,
        "ORDER_CLOSED",
        "This order was expired and can no longer be paid; its items are back in your cart.",
    )
    assert NotFound().message == "We could not find that page."
    assert BadRequest(ErrorCode.QUANTITY_MISSING, bounds="from 1 to 99").message == (
        "The quantity must be a whole number from 1 to 99."
    )


# One line of each way a code could be written inline.
INLINE_CODES = [
    'ServiceError(409, "SOMETHING_NEW")',
    'NotFound("NOTHING_HERE")',
    'BadRequest("BAD_THING")',
]


def test_strict_mypy_refuses_a_code_written_inline(tmp_path: Path) -> None:
    program = tmp_path / "inline_codes.py"
    program.write_text(
        "from lib.errors import BadRequest, NotFound, ServiceError\n\n" + "\n".join(INLINE_CODES)
    )
    # In a process of its own: mypy raises the interpreter's recursion limit, which the JSON
    # depth checks of other tests rely on.
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
            "--follow-imports",
            "silent",
            str(program),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        check=False,
    )
    report, status = checked.stdout, checked.returncode

    assert status == 1, report
    refused = [line for line in report.splitlines() if 'type "str"; expected "ErrorCode"' in line]
    assert len(refused) == len(INLINE_CODES), report
