"""The paid-orders run's checks: a relay that fell behind fails the run, as an oversold ticket
does."""

from __future__ import annotations

from benchmarks.paid_orders import OUTBOX_LONGEST_WAIT_S, OrdersRun


def run(*, longest_wait_s: float, waiting: int = 0) -> OrdersRun:
    return OrdersRun(
        "tickets",
        shoppers=32,
        workers=2,
        window_s=40.0,
        paid_in_window=2_000,
        capacity=[("Standard", 10_000, 2_000, 10)],
        outbox_rows=4_000,
        outbox_waiting=waiting,
        outbox_longest_wait_s=longest_wait_s,
    )


def test_a_relay_that_kept_within_its_intervals_passes() -> None:
    kept_up = run(longest_wait_s=5.2, waiting=65)

    assert kept_up.ok
    assert kept_up.problems == []


def test_a_relay_that_fell_behind_fails_the_run_and_says_so() -> None:
    behind = run(longest_wait_s=87.7, waiting=6_715)

    assert not behind.ok
    assert behind.problems == ["the outbox relay fell behind (a row waited 88 s)"]
    assert OUTBOX_LONGEST_WAIT_S < 87.7


def test_an_oversold_ticket_type_is_named() -> None:
    oversold = run(longest_wait_s=1.0)
    oversold.capacity = [("Front row", 40, 41, 0)]

    assert oversold.problems == ["Front row: 41 confirmed > capacity 40"]
