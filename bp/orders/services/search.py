"""How an order list search term becomes SQL: order number, or product title."""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import BigInteger, ColumnElement, String, bindparam, literal_column, or_, select

from lib.ids import is_id
from lib.like import LIKE_ESCAPE, escape_like
from models import Order, OrderItem

# Order ids are PostgreSQL BIGINT: a longer number cannot be an order number.
ORDER_NUMBER = re.compile(r"#?\s*([0-9]{1,19})")
# The search's bound parameters in statements built once (`search_condition_bound`).
SEARCH_PATTERN = "search_pattern"
SEARCH_NUMBER = "search_number"

# What a term searches: nothing, titles, or an order number and titles.
SearchKind = Literal["", "title", "number"]


def order_number_of(term: str) -> int | None:
    """The order number a term names ("123" or "#123"), or None."""
    match = ORDER_NUMBER.fullmatch(term.strip())
    if match is None:
        return None
    number = int(match.group(1))
    return number if is_id(number) else None


def title_matches(term: str) -> ColumnElement[bool]:
    """The order has a line whose title contains the term, ignoring case."""
    return _title_matches(title_pattern(term))


def title_pattern(term: str) -> str:
    """The ILIKE pattern of titles containing the term."""
    return f"%{escape_like(term)}%"


def _title_matches(pattern: object) -> ColumnElement[bool]:
    """The order has a line whose title matches the ILIKE pattern (a value or a parameter).

    The planner cannot estimate '%term%' and, guessing it rare, would scan every order line of
    the table and join back (hundreds of ms on 2M lines). OFFSET 0 keeps the EXISTS a per-order
    check (an index-only scan of ix_order_items_order_title), run only on the owner's orders as
    the index walks them newest first: the cost is bounded by one shopper's own history.
    """
    return (
        select(literal_column("1"))
        .where(OrderItem.order_id == Order.id, OrderItem.title.ilike(pattern, escape=LIKE_ESCAPE))
        .offset(literal_column("0"))
        .exists()
    )


def search_condition(term: str) -> ColumnElement[bool]:
    """A number matches that order exactly or a title containing it; other terms match titles."""
    number = order_number_of(term)
    if number is None:
        return title_matches(term)
    return or_(Order.id == number, title_matches(term))


def search_kind(term: str) -> SearchKind:
    """Which `search_condition_bound` the term needs."""
    if not term:
        return ""
    return "title" if order_number_of(term) is None else "number"


def search_condition_bound(kind: SearchKind) -> ColumnElement[bool] | None:
    """`search_condition` for a statement built once, the term bound at execution
    (`search_params`); None when nothing is searched."""
    if not kind:
        return None
    titles = _title_matches(bindparam(SEARCH_PATTERN, type_=String))
    if kind == "title":
        return titles
    return or_(Order.id == bindparam(SEARCH_NUMBER, type_=BigInteger), titles)


def search_params(term: str) -> dict[str, object]:
    """The parameters of `search_condition_bound(search_kind(term))` for the term."""
    if not term:
        return {}
    params: dict[str, object] = {SEARCH_PATTERN: title_pattern(term)}
    number = order_number_of(term)
    if number is not None:
        params[SEARCH_NUMBER] = number
    return params
