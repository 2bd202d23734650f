"""The order list's query string: parsing never fails, links are canonical."""

from __future__ import annotations

import ast
import random
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from bp.orders.filters.qs import (
    MAX_PAGE,
    MAX_SEARCH_LENGTH,
    STATUS_LABELS,
    OrderListQuery,
    build_query_string,
    clear_search_url,
    first_page_url,
    list_links,
    list_url,
    next_page_url,
    parse_order_query,
    previous_page_url,
    status_filter_url,
    status_filters,
    with_changes,
)
from models import ORDER_STATUSES

DEFAULT = OrderListQuery()


def test_no_parameters_is_the_first_page_of_everything() -> None:
    assert parse_order_query({}) == OrderListQuery(page=1, search="", status="")
    assert not DEFAULT.is_filtered


@pytest.mark.parametrize(
    ("raw", "page"),
    [
        ("1", 1),
        ("2", 2),
        (" 3 ", 3),
        ("007", 7),
        (str(MAX_PAGE), MAX_PAGE),
        (str(MAX_PAGE + 1), 1),
        ("0", 1),
        ("-1", 1),
        ("+2", 1),
        ("abc", 1),
        ("1.5", 1),
        ("1e3", 1),
        ("", 1),
        ("99999999999999999999", 1),
        ("9" * 5000, 1),
        ("٣", 1),  # an Arabic-Indic digit: str.isdigit says yes, we say no
        ("²", 1),
        ("2; DROP TABLE orders", 1),
    ],
)
def test_a_bad_page_falls_back_to_the_first(raw: str, page: int) -> None:
    assert parse_order_query({"page": raw}).page == page


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("paid", "paid"),
        ("PAID", "paid"),
        (" failed ", "failed"),
        ("pending", "pending"),
        ("expired", "expired"),
        ("cancelled", "cancelled"),
        ("", ""),
        ("all", ""),
        ("refunded", ""),
        ("paid'--", ""),
        ("pa\x00id", ""),
    ],
)
def test_an_unknown_status_means_all(raw: str, status: str) -> None:
    assert parse_order_query({"status": raw}).status == status


@pytest.mark.parametrize(
    ("raw", "search"),
    [
        ("  bread  ", "bread"),
        ("rye\t\n  bread", "rye bread"),
        ("bre\x00ad", "bread"),
        ("\x07bell\x1b", "bell"),
        ("Café ☕", "Café ☕"),
        ("Cafe\u0301", "Café"),  # decomposed é: one form, whatever the keyboard sent
        ("👩\u200d🍳 course", "👩\u200d🍳 course"),  # a joiner inside an emoji is kept
        ("#1042", "#1042"),
        ("100%", "100%"),
        ("\ud800lone", "lone"),
        ("   ", ""),
    ],
)
def test_the_search_is_trimmed_and_cleaned(raw: str, search: str) -> None:
    assert parse_order_query({"q": raw}).search == search


def test_a_very_long_search_is_cut_to_the_limit() -> None:
    query = parse_order_query({"q": "loaf " * 1000})
    assert len(query.search) <= MAX_SEARCH_LENGTH
    assert query.search == query.search.strip()
    assert query.search.startswith("loaf loaf")


def test_repeated_parameters_use_the_first_value() -> None:
    args = MultiDict([("page", "2"), ("page", "5"), ("status", "paid"), ("status", "failed")])
    assert parse_order_query(args) == OrderListQuery(page=2, status="paid")


def test_parsing_never_raises_on_hostile_input() -> None:
    rng = random.Random(20261121)
    alphabet = "0123456789-+.eE%_#'\"\\\x00\x7f é☕\u200d\ud800\U0001f600"
    for _ in range(2000):
        args = {
            key: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            for key in ("page", "q", "status", "other")
        }
        query = parse_order_query(args)
        assert 1 <= query.page <= MAX_PAGE
        assert query.status in ("", *ORDER_STATUSES)
        assert len(query.search) <= MAX_SEARCH_LENGTH
        assert "\x00" not in query.search


def test_the_default_query_string_is_empty() -> None:
    assert build_query_string(DEFAULT) == ""
    assert list_url(DEFAULT) == "/orders/"


def test_the_query_string_is_canonical() -> None:
    query = OrderListQuery(page=3, search="rye bread", status="paid")
    assert build_query_string(query) == "q=rye+bread&status=paid&page=3"
    assert list_url(query) == "/orders/?q=rye+bread&status=paid&page=3"


def test_the_query_string_encodes_what_a_url_cannot_hold() -> None:
    query = OrderListQuery(search="100% & #1 café")
    assert build_query_string(query) == "q=100%25+%26+%231+caf%C3%A9"
    assert parse_order_query(dict(parse_qsl(build_query_string(query)))) == query


@pytest.mark.parametrize(
    "query",
    [
        DEFAULT,
        OrderListQuery(page=2),
        OrderListQuery(search="jam"),
        OrderListQuery(status="failed", page=7),
        OrderListQuery(page=MAX_PAGE, search="é ☕ %_\\", status="cancelled"),
    ],
)
def test_parsing_a_built_link_gives_the_same_query(query: OrderListQuery) -> None:
    assert parse_order_query(dict(parse_qsl(build_query_string(query)))) == query


def test_a_new_search_or_filter_starts_at_the_first_page() -> None:
    query = OrderListQuery(page=4, search="jam", status="paid")
    assert with_changes(query, search="bread") == OrderListQuery(search="bread", status="paid")
    assert with_changes(query, status="failed") == OrderListQuery(search="jam", status="failed")
    assert build_query_string(query, status="") == "q=jam"
    assert build_query_string(query, search="") == "status=paid"


def test_the_same_search_or_filter_keeps_the_page() -> None:
    query = OrderListQuery(page=4, search="jam", status="paid")
    assert with_changes(query, search=" jam ", status="PAID") == query


def test_changes_are_normalised_like_parameters() -> None:
    assert with_changes(DEFAULT, page=-3, status="nope", search="  x\x00y ") == OrderListQuery(
        page=1, search="xy"
    )
    assert with_changes(DEFAULT, page="12") == OrderListQuery(page=12)


def test_an_unknown_change_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        build_query_string(DEFAULT, sort="oldest")


def test_page_links_stop_at_both_ends() -> None:
    first = OrderListQuery(search="jam")
    assert previous_page_url(first) is None
    assert next_page_url(first, has_next=True) == "/orders/?q=jam&page=2"
    assert next_page_url(first, has_next=False) is None
    third = OrderListQuery(page=3, status="paid")
    assert previous_page_url(third) == "/orders/?status=paid&page=2"
    assert previous_page_url(OrderListQuery(page=2, status="paid")) == "/orders/?status=paid"
    assert next_page_url(OrderListQuery(page=MAX_PAGE), has_next=True) is None


def test_filter_and_search_links_keep_the_rest_and_reset_the_page() -> None:
    query = OrderListQuery(page=5, search="jam", status="paid")
    assert first_page_url(query) == "/orders/?q=jam&status=paid"
    assert status_filter_url(query, "failed") == "/orders/?q=jam&status=failed"
    assert status_filter_url(query, "") == "/orders/?q=jam"
    assert clear_search_url(query) == "/orders/?status=paid"


def test_every_order_status_has_a_label_and_nothing_else_does() -> None:
    assert list(STATUS_LABELS) == ["", *ORDER_STATUSES]


def test_status_filters_list_all_first_and_mark_the_current_one() -> None:
    filters = status_filters(OrderListQuery(page=2, status="failed", search="jam"))
    assert [f.status for f in filters] == ["", *ORDER_STATUSES]
    assert [f.status for f in filters if f.current] == ["failed"]
    assert filters[0].label == "All"
    assert filters[0].url == "/orders/?q=jam"
    assert all("page=" not in f.url for f in filters)


def test_list_links_gather_every_link() -> None:
    links = list_links(OrderListQuery(page=2, search="jam"), has_next=True)
    assert links.current == "/orders/?q=jam&page=2"
    assert links.first == "/orders/?q=jam"
    assert links.previous == "/orders/?q=jam"
    assert links.next == "/orders/?q=jam&page=3"
    assert links.clear_search == "/orders/"
    assert links.clear_all == "/orders/"
    assert len(links.statuses) == len(ORDER_STATUSES) + 1


def test_the_module_imports_nothing_of_quart_or_the_database() -> None:
    import bp.orders.filters.qs as qs

    tree = ast.parse(Path(qs.__file__).read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
        )
        if name
    }
    assert not {name.split(".")[0] for name in imported} & {"quart", "sqlalchemy", "models", "lib"}
