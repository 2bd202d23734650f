"""The order list's query string: parse and normalise it, and build canonical links.

Pure: no Quart, no database. A bad value never raises; it falls back to the default, so a
mistyped or hostile link shows the list instead of an error page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

ORDERS_PATH = "/orders/"
# A label for each order status (models/order.py ORDER_STATUSES, in its order; a test holds the
# two together so this module stays free of the models), and "" for all of them.
STATUS_LABELS = {
    "": "All",
    "pending": "Awaiting payment",
    "paid": "Paid",
    "failed": "Failed",
    "expired": "Expired",
    "cancelled": "Cancelled",
}
DEFAULT_PAGE = 1
# Deeper than anyone reads; it also keeps OFFSET far from any integer limit.
MAX_PAGE = 10_000
MAX_SEARCH_LENGTH = 100
# Control characters and lone surrogates: PostgreSQL cannot store them. Format characters (the
# zero-width joiners of emoji and some scripts) are kept.
DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})
PAGE_PATTERN = re.compile(r"[0-9]{1,6}")
# Parameter names in the order links are written in, so each list has one canonical URL.
PARAM_SEARCH = "q"
PARAM_STATUS = "status"
PARAM_PAGE = "page"
# Changing what is listed starts again at its first page.
RESETS_PAGE = frozenset({"search", "status"})
# Link sets remembered (per worker; bounded, as searches are whatever shoppers type).
LINKS_CACHED = 256


@dataclass(frozen=True, slots=True)
class OrderListQuery:
    """What the shopper asked to see: a page of their orders, maybe searched and filtered."""

    page: int = DEFAULT_PAGE
    search: str = ""
    status: str = ""

    @property
    def is_filtered(self) -> bool:
        """True when a search or a status narrows the list."""
        return bool(self.search or self.status)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def normalise_search(value: object) -> str:
    """Trim, drop control characters (PostgreSQL text refuses NUL), fold spacing, cap the length."""
    if not isinstance(value, str):
        return ""
    kept = []
    for ch in unicodedata.normalize("NFC", value):
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) not in DROPPED_CATEGORIES:
            kept.append(ch)
    return " ".join("".join(kept).split())[:MAX_SEARCH_LENGTH].strip()


def normalise_status(value: object) -> str:
    """A known order status, or "" (all)."""
    if not isinstance(value, str):
        return ""
    status = value.strip().lower()
    return status if status in STATUS_LABELS else ""


def normalise_page(value: object) -> int:
    """A page number from 1 to MAX_PAGE, or the first page."""
    if isinstance(value, bool):
        return DEFAULT_PAGE
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and PAGE_PATTERN.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return DEFAULT_PAGE
    return number if 1 <= number <= MAX_PAGE else DEFAULT_PAGE


def parse_order_query(args: Mapping[str, str]) -> OrderListQuery:
    """The query of a request's arguments; anything unusable becomes its default."""
    return OrderListQuery(
        page=normalise_page(args.get(PARAM_PAGE)),
        search=normalise_search(args.get(PARAM_SEARCH)),
        status=normalise_status(args.get(PARAM_STATUS)),
    )


def with_changes(query: OrderListQuery, **changes: Any) -> OrderListQuery:
    """The query with some fields changed and normalised; a new search or status resets the page."""
    unknown = set(changes) - {"page", "search", "status"}
    if unknown:
        raise TypeError(f"unknown order query fields: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    if "search" in changes:
        values["search"] = normalise_search(changes["search"])
    if "status" in changes:
        values["status"] = normalise_status(changes["status"])
    if "page" in changes:
        values["page"] = normalise_page(changes["page"])
    elif any(getattr(query, name) != values[name] for name in RESETS_PAGE if name in values):
        values["page"] = DEFAULT_PAGE
    return replace(query, **values)


def build_query_string(query: OrderListQuery, **changes: Any) -> str:
    """The canonical query string (no "?") of the query with changes; defaults are left out."""
    target = with_changes(query, **changes) if changes else query
    params: list[tuple[str, str]] = []
    if target.search:
        params.append((PARAM_SEARCH, target.search))
    if target.status:
        params.append((PARAM_STATUS, target.status))
    if target.page != DEFAULT_PAGE:
        params.append((PARAM_PAGE, str(target.page)))
    return urlencode(params)


def list_url(query: OrderListQuery, *, base: str = ORDERS_PATH, **changes: Any) -> str:
    """A link to the list for the query with changes: `/orders/` or `/orders/?q=…`."""
    query_string = build_query_string(query, **changes)
    return f"{base}?{query_string}" if query_string else base


def next_page_url(query: OrderListQuery, *, has_next: bool, base: str = ORDERS_PATH) -> str | None:
    """The next page's link, or None on the last page (or at MAX_PAGE)."""
    if not has_next or query.page >= MAX_PAGE:
        return None
    return list_url(query, base=base, page=query.page + 1)


def previous_page_url(query: OrderListQuery, *, base: str = ORDERS_PATH) -> str | None:
    """The previous page's link, or None on the first page."""
    if query.page <= DEFAULT_PAGE:
        return None
    return list_url(query, base=base, page=query.page - 1)


def first_page_url(query: OrderListQuery, *, base: str = ORDERS_PATH) -> str:
    """The first page of the same search and filter."""
    return list_url(query, base=base, page=DEFAULT_PAGE)


def status_filter_url(query: OrderListQuery, status: str, *, base: str = ORDERS_PATH) -> str:
    """The list filtered by `status` ("" for all), keeping the search, from its first page."""
    return list_url(query, base=base, status=status, page=DEFAULT_PAGE)


def clear_search_url(query: OrderListQuery, *, base: str = ORDERS_PATH) -> str:
    """The list without the search, keeping the status filter."""
    return list_url(query, base=base, search="", page=DEFAULT_PAGE)


def status_filters(query: OrderListQuery, *, base: str = ORDERS_PATH) -> list[StatusFilter]:
    """One link per status filter ("All" first), marking the one in force."""
    return [
        StatusFilter(
            status=status,
            label=label,
            url=status_filter_url(query, status, base=base),
            current=status == query.status,
        )
        for status, label in STATUS_LABELS.items()
    ]


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """A status filter link as the list shows it."""

    status: str
    label: str
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class ListLinks:
    """Every link the list shows, built once from the query."""

    current: str
    first: str
    next: str | None
    previous: str | None
    clear_search: str
    clear_all: str
    statuses: tuple[StatusFilter, ...]


@lru_cache(maxsize=LINKS_CACHED)
def list_links(query: OrderListQuery, *, has_next: bool, base: str = ORDERS_PATH) -> ListLinks:
    """The list's links for the query: pages, status filters, clearing the search.

    Remembered: building them (a dozen query strings, some 50 µs) is work every visit repeats,
    and most visits ask for the same few (the first page, unfiltered). Frozen, so a set handed
    to one render cannot change for the next."""
    return ListLinks(
        current=list_url(query, base=base),
        first=first_page_url(query, base=base),
        next=next_page_url(query, has_next=has_next, base=base),
        previous=previous_page_url(query, base=base),
        clear_search=clear_search_url(query, base=base),
        clear_all=base,
        statuses=tuple(status_filters(query, base=base)),
    )
