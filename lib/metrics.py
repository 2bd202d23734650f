"""The service's own metrics (prometheus-client): one set per Runtime, and their exposition.

Several Hypercorn workers each count for themselves. With `PROMETHEUS_MULTIPROC_DIR` set before
the process starts (entrypoint.sh, `dev.py serve` and the tests' throwaway services set it up
and empty it), prometheus-client keeps every worker's values in files of that folder and a
scrape sums them, so whichever worker answers `/metrics` answers for all. Without it (tests in
one process) each Runtime's registry holds its own values: two apps in one process share
nothing. In multiprocess mode the values live in per-process files named by the metric, so two
apps in one process would add into the same counts; a worker runs one app, so that never
happens in production.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.multiprocess import MultiProcessCollector

from config.settings import ConfigError

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The route label of a request that matched no URL rule (a raw path would let any client
# make as many series as it likes).
UNMATCHED_ROUTE = "unmatched"
# SumUp answers in tens to hundreds of milliseconds; a timeout is SUMUP_TIMEOUT_SECONDS (10).
SUMUP_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The metrics of the app or job running in this context, for the few services deep inside a
# flow (settlement, refunds) that count what they do: a request hook and each background job
# bind their runtime's metrics here, as structlog binds the request id. A context variable is
# per task, so two apps in one process never see each other's.
_bound: ContextVar[Metrics | None] = ContextVar("cart_metrics", default=None)


class Metrics:
    """The counters and histograms the service updates as it works."""

    def __init__(self) -> None:
        self.multiprocess_dir = multiprocess_dir()
        self.registry = CollectorRegistry(auto_describe=False)
        registry = self.registry
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "Requests served, by URL rule, method and status, and how long each took.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.sumup_request_duration = Histogram(
            "cart_sumup_request_duration_seconds",
            "Calls to SumUp's API by operation and outcome (HTTP status, timeout or network), "
            "and how long each took.",
            ("operation", "outcome"),
            buckets=SUMUP_BUCKETS,
            registry=registry,
        )
        self.settlements = Counter(
            "cart_settlements",
            "Payment checks (check_sumup_status) by the path that asked (webhook, return, "
            "recheck, reconciler, pay, checkout) and what they found.",
            ("path", "outcome"),
            registry=registry,
        )
        self.reconciler_passes = Counter(
            "cart_reconciler_passes",
            "Reconciler passes: ok, skipped (another worker was in one) or failed.",
            ("outcome",),
            registry=registry,
        )
        self.orders_expired = Counter(
            "cart_orders_expired",
            "Orders the reconciler expired, their bookings and tickets released.",
            registry=registry,
        )
        self.refunds_made = Counter(
            "cart_refunds_made", "Refunds SumUp made and the cart recorded.", registry=registry
        )
        self.rate_limited = Counter(
            "cart_rate_limited_requests",
            "Requests refused with 429 by a rate limit, by URL rule.",
            ("route",),
            registry=registry,
        )

    def exposition(self) -> bytes:
        """These metrics in Prometheus' text format: every worker's when in multiprocess mode."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


def multiprocess_dir() -> str | None:
    """The folder of every worker's metrics, when prometheus-client keeps them in files.

    prometheus-client chose when it was first imported, by PROMETHEUS_MULTIPROC_DIR then; a
    folder that is missing is refused here, at start, rather than at the first request.
    """
    if prometheus_values.ValueClass is prometheus_values.MutexValue:
        return None  # values in memory: the variable was not set when the library loaded
    folder = os.environ.get(MULTIPROC_DIR_ENV, "")
    if not folder or not Path(folder).is_dir():
        raise ConfigError(
            f"{MULTIPROC_DIR_ENV}={folder!r} is not a folder: create it before the service "
            "starts (entrypoint.sh does), or leave the variable unset"
        )
    return folder


def bind_metrics(metrics: Metrics) -> None:
    """Make `metrics` the ones this task (a request, a job) counts into."""
    _bound.set(metrics)


def current_metrics() -> Metrics | None:
    """The metrics bound to this task, or None (an operator command counts nothing)."""
    return _bound.get()
