"""Places checked at the commit: a checkout's claims and a settlement's confirmations made with
no lock, then checked by the `orders_places_fit` constraint trigger when the transaction
commits (migration c0014).

Every checkout and settlement of an event queues on its slots' and ticket types' rows. Locked
by a statement, those rows were held for every round trip from there to the commit, and under
load a round trip to the worker is milliseconds. Checked at the commit, they are held for the
check and the commit alone, inside PostgreSQL. When the places no longer fit, the commit is
refused and everything is rolled back; the caller then does the same work the way that locks
first and counts, which confirms what still fits and answers what was left.

The rule is set for the transaction by the statement that writes the order (`set_config(...,
true)`, so it ends with the transaction, PgBouncer's transaction mode included): `claims` for
a new order's claims, `payment` for a paid order's confirmations, empty for a transaction that
locked its places itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import ColumnElement, String, bindparam, func
from sqlalchemy.exc import DBAPIError

from lib.errors import refused_by

T = TypeVar("T")

log = logging.getLogger(__name__)

# The setting the trigger reads, and the constraint named by its error.
RULE_SETTING = "cart.places_checked_at_commit"
CONSTRAINT = "order_places_fit"


class PlacesRule(StrEnum):
    """What the commit checks: the order's claims fit (checkout), or what it paid for does."""

    LOCKED_FIRST = ""
    CLAIMS = "claims"
    PAYMENT = "payment"


def set_places_rule() -> ColumnElement[str]:
    """A column that sets the rule bound as `places_rule` for the rest of the transaction."""
    return func.set_config(RULE_SETTING, bindparam("places_rule", type_=String), True)


def places_refused(error: BaseException) -> bool:
    """Whether the commit was refused because the order's places no longer fit."""
    return refused_by(error, CONSTRAINT)


async def checked_at_commit(attempt: Callable[[bool], Awaitable[T]], *, work: str) -> T:
    """`attempt(True)`: the work with its places checked at the commit. When that commit is
    refused because they no longer fit (everything rolled back), `attempt(False)`: the same
    work locking and counting them first, which answers what is left. `work` names it in the
    log."""
    try:
        return await attempt(True)
    except DBAPIError as error:
        if not places_refused(error):
            raise
    log.info("%s: its places were taken before the commit; done again under their locks", work)
    return await attempt(False)
