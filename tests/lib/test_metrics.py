"""The metrics' mode: in memory per Runtime, or every worker's files in PROMETHEUS_MULTIPROC_DIR,
whose folder must exist when the service starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import values as prometheus_values

from config.settings import ConfigError
from lib.metrics import MULTIPROC_DIR_ENV, Metrics, multiprocess_dir


def test_without_the_variable_each_metrics_set_counts_in_memory_on_its_own() -> None:
    first, second = Metrics(), Metrics()
    first.refunds_made.inc()

    assert first.multiprocess_dir is None
    assert b"cart_refunds_made_total 1.0" in first.exposition()
    assert b"cart_refunds_made_total 0.0" in second.exposition()


@pytest.fixture
def files_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if prometheus-client had loaded with PROMETHEUS_MULTIPROC_DIR set."""
    monkeypatch.setattr(prometheus_values, "ValueClass", object())


def test_a_missing_folder_is_refused_at_start_naming_the_variable(
    files_mode: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(tmp_path / "not-made"))
    with pytest.raises(ConfigError, match=r"PROMETHEUS_MULTIPROC_DIR=.*not-made.* is not a folder"):
        multiprocess_dir()


def test_an_existing_folder_is_where_the_scrape_reads(
    files_mode: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(tmp_path))
    assert multiprocess_dir() == str(tmp_path)
