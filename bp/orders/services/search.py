"""How an order list search term becomes SQL: order number, or product title."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, literal_column, or_, select

from lib.ids import is_id
from lib.like import LIKE_ESCAPE, escape_like
from models import Order, OrderItem

# Order ids are PostgreSQL BIGINT: a longer number cannot be an order number.
ORDER_NUMBER = re.compile(r"#?\s*([0-9]{1,19})")


def order_number_of(term: str) -> int | None:
    """The order number a term names ("123" or "#123"), or None."""
    match = ORDER_NUMBER.fullmatch(term.strip())
    if match is None:
        return None
    number = int(match.group(1))
    return number if is_id(number) else None


def title_matches(term: str) -> ColumnElement[bool]:
    """The order has a line whose title contains the term, ignoring case.

    The planner cannot estimate '%term%' and, guessing it rare, would scan every order line of
    the table and join back (hundreds of ms on 2M lines). OFFSET 0 keeps the EXISTS a per-order
    check (an index-only scan of ix_order_items_order_title), run only on the owner's orders as
    the index walks them newest first: the cost is bounded by one shopper's own history.
    """
    pattern = f"%{escape_like(term)}%"
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
