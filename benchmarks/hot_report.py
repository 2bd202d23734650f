"""The hot-path benchmark's figures: what was measured, printed and written as Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from benchmarks.fixed_rate import FixedRateResult
from benchmarks.hot_history import CHANGES, IN_THE_WAY
from benchmarks.machine import Machine
from benchmarks.paid_orders import OrdersRun
from benchmarks.statements import StatementCount
from benchmarks.wrk import WrkResult

BARE = "bare"
# Bare Quart running the badge's one statement on asyncpg (benchmarks/practical_app.py).
PRACTICAL = "practical"
YARDSTICKS = (BARE, PRACTICAL)
LABELS = {
    "bare": "bare Quart, same fragment",
    "practical": "practical limit: bare Quart + the badge's statement",
    "healthz": "`/healthz` (the pipeline around nothing)",
    "cart_mini": "`cart-mini` (token + `user_id`)",
    "cart_mini_cookie": "`cart-mini` from the shopper's cookie",
    "summary": "`/internal/cart/summary`",
    "page_cart": "page cart (5 lines)",
    "overview": "cart overview",
    "orders_list": "orders list",
    "add_to_cart": "add-to-cart (HTMX)",
    "set_quantity": "set-quantity (HTMX)",
}
# Lowest acceptable ratio of req/s, per path, and to which yardstick of the same run: the
# badge and the summary do what the practical limit does, so they are held to it; the pages
# and writes do more than any yardstick, so they are held to a share of bare Quart.
TARGETS = {
    "cart_mini": (PRACTICAL, 0.85),
    "summary": (PRACTICAL, 0.85),
    "cart_mini_cookie": (PRACTICAL, 0.75),
    "page_cart": (BARE, 0.30),
    "overview": (BARE, 0.30),
    "orders_list": (BARE, 0.30),
    "add_to_cart": (BARE, 0.35),
    "set_quantity": (BARE, 0.40),
}
# A worker's memory is flat when, after its first 50,000 requests (a tenth of a shorter run),
# its RSS stays within this of what it was then.
MEMORY_WARM_REQUESTS = 50_000
MEMORY_FLAT_KIB = 2 * 1024
FIXED_RATE_P99_TARGET_MS = 25.0
STATEMENTS_TARGET = 15
ORDERS_TARGETS = {"tickets": 3_000.0, "mixed": 1_000.0}
CART_NAMES = {"tickets": "one event's tickets", "mixed": "products + booking + ticket"}


@dataclass(frozen=True)
class PathRun:
    path: str
    result: WrkResult
    round: str = ""


@dataclass(frozen=True)
class StatementCase:
    name: str
    checkout: StatementCount
    webhook: StatementCount
    return_page: StatementCount


@dataclass
class Report:
    """Everything one run measured; parts that did not run stay empty."""

    started: datetime
    command: str
    machine: Machine
    settings: list[str]
    data: list[str]
    load_before: str
    load_after: str = ""
    paths: list[PathRun] = field(default_factory=list)
    fixed_rate: FixedRateResult | None = None
    fixed_rate_of: float = 0.0
    limiter: dict[bool, WrkResult] = field(default_factory=dict)
    limiter_note: str = ""
    orders: list[OrdersRun] = field(default_factory=list)
    statements: list[StatementCase] = field(default_factory=list)
    statements_note: str = ""
    memory: list[tuple[int, int]] = field(default_factory=list)
    memory_statuses: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def yardstick_rps(self, yardstick: str) -> float:
        """The mean req/s of a yardstick's runs (before and after the paths), 0 if none ran."""
        runs = [run.result.rps for run in self.paths if run.path == yardstick]
        return sum(runs) / len(runs) if runs else 0.0

    def bare_rps(self) -> float:
        return self.yardstick_rps(BARE)

    def ratio(self, result: WrkResult, yardstick: str = BARE) -> float:
        """`result`'s req/s over the yardstick's mean in this run (0 when it did not run)."""
        measured = self.yardstick_rps(yardstick)
        return result.rps / measured if measured else 0.0

    def verdict(self, run: PathRun) -> tuple[str, float, bool] | None:
        """The path's target: its yardstick, the lowest ratio, and whether it was met."""
        target = TARGETS.get(run.path)
        if target is None or run.path in YARDSTICKS:
            return None
        yardstick, lowest = target
        return yardstick, lowest, self.ratio(run.result, yardstick) >= lowest


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def goal_text(report: Report, run: PathRun) -> str:
    """The target cell: `≥ 0.85 of the practical limit met`, or empty."""
    verdict = report.verdict(run)
    if verdict is None:
        return ""
    yardstick, lowest, ok = verdict
    of = "the practical limit" if yardstick == PRACTICAL else "bare Quart"
    return f"≥ {lowest:.2f} of {of} {_verdict(ok)}"


def _ratio_cell(report: Report, result: WrkResult, yardstick: str) -> str:
    return f"{report.ratio(result, yardstick):.2f}" if report.yardstick_rps(yardstick) else "-"


def path_row(report: Report, run: PathRun) -> str:
    result = run.result
    label = LABELS[run.path] + (f" ({run.round})" if run.round else "")
    answers = result.status_summary() + (f"; {result.failed:,} failed" if result.failed else "")
    return (
        f"| {label} | {result.rps:,.0f} | {result.p50_ms:.1f} ms | {result.p99_ms:.1f} ms | "
        f"{_ratio_cell(report, result, BARE)} | {_ratio_cell(report, result, PRACTICAL)} | "
        f"{goal_text(report, run)} | {answers} |"
    )


def console_path(report: Report, run: PathRun) -> str:
    result = run.result
    label = (run.path + (f" ({run.round})" if run.round else ""))[:24]
    ratios = "  ".join(
        f"{name} {report.ratio(result, name):5.2f}"
        for name in YARDSTICKS
        if report.yardstick_rps(name)
    )
    failed = f"  failed {result.failed:,}" if result.failed else ""
    goal = goal_text(report, run)
    return (
        f"  {label:24} {result.rps:9,.0f} req/s  p50 {result.p50_ms:7.1f} ms  "
        f"p99 {result.p99_ms:7.1f} ms  {ratios}{failed}" + (f"  [{goal}]" if goal else "")
    )


def _throughput(report: Report) -> list[str]:
    if not report.paths:
        return []
    return [
        "### Throughput, one Hypercorn worker each",
        "",
        "| path | req/s | p50 | p99 | ratio to bare Quart | ratio to the practical limit | "
        "target | answers |",
        "|---|---:|---:|---:|---:|---:|---|---|",
        *(path_row(report, run) for run in report.paths),
        "",
        "Each ratio divides by the mean of the yardstick's runs before and after the paths "
        f"(bare Quart {report.bare_rps():,.0f} req/s, the practical limit "
        f"{report.yardstick_rps(PRACTICAL):,.0f} req/s).",
        "",
    ]


def _fixed_rate(report: Report) -> list[str]:
    result = report.fixed_rate
    if result is None:
        return []
    ok = result.percentile(99) < FIXED_RATE_P99_TARGET_MS
    return [
        "### add-to-cart at half of its own maximum (open loop, fixed arrival rate)",
        "",
        "| maximum (wrk) | offered rate | answered | p50 | p90 | p99 | target p99 |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {report.fixed_rate_of:,.0f} req/s | {result.rate:,.1f} req/s | "
        f"{result.answered:,} of {result.sent:,} ({result.achieved_rps:,.1f}/s) | "
        f"{result.median_ms:.1f} ms | {result.percentile(90):.1f} ms | "
        f"{result.percentile(99):.1f} ms | < {FIXED_RATE_P99_TARGET_MS:.0f} ms {_verdict(ok)} |",
        "",
    ]


def _limiter(report: Report) -> list[str]:
    if not report.limiter:
        return []
    rows = []
    for enabled in (True, False):
        result = report.limiter.get(enabled)
        if result is not None:
            rows.append(
                f"| `RATE_LIMIT_ENABLED={str(enabled).lower()}` | {result.rps:,.0f} | "
                f"{result.p50_ms:.1f} ms | {result.p99_ms:.1f} ms | "
                f"{result.statuses.get(429, 0):,} | {result.status_summary()} |"
            )
    on, off = report.limiter.get(True), report.limiter.get(False)
    cost = ""
    if on and off and off.rps:
        cost = (
            f"With limits on, add-to-cart ran at {on.rps / off.rps:.2f} of its speed with them off."
        )
    return [
        "### The rate limiter's cost on add-to-cart",
        "",
        "| setting | req/s | p50 | p99 | 429 answers | answers |",
        "|---|---:|---:|---:|---:|---|",
        *rows,
        "",
        " ".join(part for part in (cost, report.limiter_note) if part),
        "",
    ]


def _orders(report: Report) -> list[str]:
    if not report.orders:
        return []
    lines = [
        "### Paid orders per minute, end to end through the SumUp stand-in",
        "",
        "| cart | service workers | shoppers | paid in window | paid per minute | target | "
        "checkout → paid p50 | p99 | checks |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for run in report.orders:
        target = ORDERS_TARGETS[run.kind]
        checks = (
            "no ticket oversold, one `order.paid` per paid order, one payment per order, "
            "the outbox relay kept up"
        )
        if not run.ok:
            checks = "**FAILED**: " + "; ".join(run.problems)
        lines.append(
            f"| {CART_NAMES[run.kind]} | {run.workers} | {run.shoppers} | {run.paid_in_window:,} "
            f"in {run.window_s:.0f} s | {run.per_minute:,.0f} | ≥ {target:,.0f} "
            f"{_verdict(run.per_minute >= target)} | {run.flow_percentile(50):,.0f} ms | "
            f"{run.flow_percentile(99):,.0f} ms | {checks} |"
        )
    lines.append("")
    for run in report.orders:
        outcomes = ", ".join(f"{name}: {n:,}" for name, n in run.outcomes.most_common())
        states = ", ".join(
            f"{status}{' (refund due)' if refund else ''}: {n:,}"
            for status, refund, n in run.order_states
        )
        capacity = ", ".join(
            f"{name} {confirmed:,} confirmed + {reserved:,} reserved of {capacity:,}"
            for name, capacity, confirmed, reserved in run.capacity
        )
        lines += [
            f"- {CART_NAMES[run.kind]}: shoppers' outcomes {outcomes}. Orders: {states}. "
            f"Tickets: {capacity}. Outbox: {run.outbox_rows:,} rows written in the window, "
            f"{run.outbox_waiting:,} still waiting at the end, the longest wait for the relay "
            f"{run.outbox_longest_wait_s:.1f} s.",
        ]
    return [*lines, ""]


def _statements(report: Report) -> list[str]:
    if not report.statements:
        return (
            ["### SQL statements per checkout", "", report.statements_note, ""]
            if report.statements_note
            else []
        )

    def cell(count: StatementCount) -> str:
        pings = f", {count.pings} pings" if count.pings else ""
        driver = f", {count.driver} driver type lookups" if count.driver else ""
        return f"{count.work} (+ {count.control} BEGIN/COMMIT/ROLLBACK{pings}{driver})"

    worst = max(case.checkout.work for case in report.statements)
    lines = [
        "### SQL statements per checkout (pg_stat_statements, server side)",
        "",
        "| cart | checkout POST | webhook settlement | return page (paid) |",
        "|---|---|---|---|",
        *(
            f"| {case.name} | {cell(case.checkout)} | {cell(case.webhook)} | "
            f"{cell(case.return_page)} |"
            for case in report.statements
        ),
        "",
        f"Target: at most {STATEMENTS_TARGET} statements per checkout whatever the cart holds: "
        f"{_verdict(worst <= STATEMENTS_TARGET)} (worst: {worst}).",
        "",
    ]
    largest = report.statements[-1]
    lines += [f"Statements of one checkout POST, {largest.name}, by count:", "", "```"]
    lines += [f"{calls:4}  {text[:160]}" for calls, text in largest.checkout.by_text]
    return [*lines, "```", ""]


@dataclass(frozen=True)
class MemoryVerdict:
    """Where a worker's warm-up ends, and how far its RSS moved after it."""

    warm: tuple[int, int]
    last: tuple[int, int]
    highest_after_kib: int
    lowest_after_kib: int

    @property
    def spread_kib(self) -> int:
        """How far RSS moved after the warm-up, its lowest to its highest (warm-up included)."""
        return self.highest_after_kib - self.lowest_after_kib

    @property
    def flat(self) -> bool:
        return self.spread_kib <= MEMORY_FLAT_KIB


def memory_verdict(samples: list[tuple[int, int]]) -> MemoryVerdict:
    """From (requests served, RSS KiB) samples: the first sample after 50,000 requests (after
    a tenth of a shorter run) and the RSS's range from there to the end."""
    last = samples[-1]
    warm_after = min(MEMORY_WARM_REQUESTS, last[0] // 10)
    warm = next((m for m in samples if m[0] >= warm_after), last)
    after = [rss for served, rss in samples if served >= warm[0]]
    return MemoryVerdict(warm, last, max(after), min(after))


def _memory(report: Report) -> list[str]:
    if not report.memory:
        return []
    first, last = report.memory[0], report.memory[-1]
    growth = (last[1] - first[1]) / 1024
    samples = ", ".join(f"{n:,}: {rss / 1024:.1f}" for n, rss in report.memory)
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(report.memory_statuses.items()))
    verdict = memory_verdict(report.memory)
    warm = verdict.warm
    half = next((m for m in report.memory if m[0] >= last[0] / 2), last)
    per_10k = (last[1] - half[1]) / 1024 / max(1, last[0] - half[0]) * 10_000
    flat = (
        f"flat: within {MEMORY_FLAT_KIB // 1024} MiB, met"
        if verdict.flat
        else f"not flat (more than {MEMORY_FLAT_KIB // 1024} MiB): **not met**"
    )
    return [
        "### Memory of one service worker over mixed requests",
        "",
        "| from | requests served | RSS then | RSS at end | growth |",
        "|---|---:|---:|---:|---:|",
        f"| start | {last[0]:,} | {first[1] / 1024:.1f} MiB | {last[1] / 1024:.1f} MiB | "
        f"{growth:+.1f} MiB |",
        f"| after the warm-up ({warm[0]:,} requests) | {last[0] - warm[0]:,} | "
        f"{warm[1] / 1024:.1f} MiB | {last[1] / 1024:.1f} MiB | "
        f"{(last[1] - warm[1]) / 1024:+.1f} MiB |",
        "",
        f"After the warm-up RSS ranged over {verdict.spread_kib / 1024:.1f} MiB "
        f"({verdict.lowest_after_kib / 1024:.1f} to {verdict.highest_after_kib / 1024:.1f} MiB): "
        f"{flat}. Over the second half ({half[0]:,} to {last[0]:,} requests) the worker grew "
        f"{per_10k:+.2f} MiB per 10,000 requests.",
        "",
        f"RSS (MiB) after each stretch, by requests served: {samples}. Answers: {statuses}.",
        "",
    ]


def markdown(report: Report) -> str:
    """The benchmark's section of RESULTS.md."""
    lines = [
        "# Hot paths benchmark",
        "",
        f"Run {report.started:%Y-%m-%d %H:%M} UTC by `{report.command}`.",
        "",
        "Machine (load average 1/5/15 min before the run: "
        f"{report.load_before}; after: {report.load_after}):",
        "",
        *report.machine.lines(),
        "",
        "Settings:",
        "",
        *(f"- {line}" for line in report.settings),
        "",
        "Data:",
        "",
        *(f"- {line}" for line in report.data),
        "",
        *_throughput(report),
        *_fixed_rate(report),
        *_limiter(report),
        *_orders(report),
        *_statements(report),
        *_memory(report),
        CHANGES,
        IN_THE_WAY,
        "### Notes",
        "",
        *(f"- {note}" for note in report.notes),
        *(f"- **Failed:** {failure}" for failure in report.failures),
    ]
    return "\n".join(lines)
