"""The hot-path report: each path's ratio to bare Quart and to the practical limit, held to its
own target, and a worker's memory judged flat or not after its warm-up."""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks.hot_report import (
    BARE,
    PRACTICAL,
    PathRun,
    Report,
    console_path,
    markdown,
    memory_verdict,
    path_row,
)
from benchmarks.machine import Machine
from benchmarks.wrk import WrkResult

MIB = 1024


def at(rps: float) -> WrkResult:
    return WrkResult(requests=int(rps * 10), duration_s=10, p50_ms=1, p90_ms=2, p99_ms=3, max_ms=4)


def report_of(*runs: tuple[str, float, str]) -> Report:
    machine = Machine("cpu", 2, 4.0, "linux", "3.11", "pg", "redis", "wrk")
    report = Report(datetime.now(UTC), "cmd", machine, [], [], "0 0 0")
    report.paths = [PathRun(path, at(rps), round_) for path, rps, round_ in runs]
    return report


def test_the_badge_is_held_to_the_practical_limit_and_pages_to_bare_quart() -> None:
    report = report_of(
        (BARE, 2_000, "before"),
        (PRACTICAL, 1_000, "before"),
        ("cart_mini", 880, ""),
        ("cart_mini_cookie", 700, ""),
        ("page_cart", 500, ""),
        ("orders_list", 700, ""),
        ("add_to_cart", 600, ""),
        (PRACTICAL, 1_200, "after"),
        (BARE, 2_000, "after"),
    )
    badge, cookie, page, orders, add = report.paths[2:7]

    # 880 of the practical limit's mean of 1,100: 0.80, under its 0.85.
    assert report.verdict(badge) == (PRACTICAL, 0.85, False)
    # 700 of 1,100: 0.64, under the cookie's 0.75.
    assert report.verdict(cookie) == (PRACTICAL, 0.75, False)
    assert report.verdict(page) == (BARE, 0.30, False)
    assert report.verdict(orders) == (BARE, 0.30, True)
    assert report.verdict(add) == (BARE, 0.35, False)
    assert report.verdict(report.paths[0]) is None
    row = path_row(report, badge)
    assert "| 0.44 | 0.80 | ≥ 0.85 of the practical limit **not met** |" in row
    assert "≥ 0.30 of bare Quart met" in path_row(report, orders)
    assert "bare  0.44  practical  0.80" in console_path(report, badge)


def test_healthz_is_reported_without_a_target() -> None:
    report = report_of((BARE, 2_000, "before"), ("healthz", 1_400, ""))

    assert report.verdict(report.paths[1]) is None
    assert "| 0.70 | - |  |" in path_row(report, report.paths[1])


def test_memory_is_flat_when_it_stays_within_two_mib_after_50000_requests() -> None:
    samples = [(0, 100 * MIB), (20_000, 110 * MIB), (50_500, 115 * MIB)]
    samples += [(n, 115 * MIB + (n // 100_000) * 300) for n in range(100_000, 500_001, 50_000)]

    verdict = memory_verdict(samples)

    assert verdict.warm == (50_500, 115 * MIB)
    assert verdict.flat
    assert verdict.spread_kib == 1_500


def test_memory_that_keeps_growing_is_not_flat() -> None:
    samples = [(0, 100 * MIB), (60_000, 115 * MIB), (300_000, 116 * MIB), (500_000, 118 * MIB)]

    verdict = memory_verdict(samples)

    assert verdict.warm == (60_000, 115 * MIB)
    assert not verdict.flat


def test_a_short_run_warms_up_over_its_first_tenth() -> None:
    samples = [(0, 100 * MIB), (400, 104 * MIB), (600, 105 * MIB), (5_000, 105 * MIB)]

    assert memory_verdict(samples).warm == (600, 105 * MIB)


def test_the_markdown_says_whether_memory_was_flat() -> None:
    report = report_of((BARE, 2_000, "before"))
    report.memory = [(0, 100 * MIB), (60_000, 115 * MIB), (500_000, 120 * MIB)]
    report.memory_statuses = {200: 500_000}

    text = markdown(report)

    assert "after the warm-up (60,000 requests)" in text
    assert "not flat (more than 2 MiB): **not met**" in text
