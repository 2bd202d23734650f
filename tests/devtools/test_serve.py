"""The README's first command on a machine with nothing: embedded servers, demo data, the pages."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.processes import free_port, get, start, stop, wait_for_http


@pytest.mark.slow
def test_the_embedded_default_starts_from_nothing_and_keeps_its_data(tmp_path: Path) -> None:
    port, standin_port = free_port(), free_port()
    env = {
        # Nothing configured: the run must provide database, Redis and SumUp by itself, and
        # be development without being told (the test run's own APP_ENV is not a newcomer's).
        "APP_ENV": "",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SUMUP_API_KEY": "",
        "CART_DATA_DIR": str(tmp_path / "data"),
        "PORT": str(port),
        "SUMUP_STANDIN_PORT": str(standin_port),
        "MAIL_CATCHER_PORT": str(free_port()),
        "BACKGROUND_JOBS_ENABLED": "false",
    }
    base = f"http://127.0.0.1:{port}"
    for run in range(2):
        process = start([sys.executable, "-m", "devtools.serve"], env)
        try:
            assert wait_for_http(f"{base}/readyz", process, timeout=120) == 200
            status, sign_in = get(f"{base}/dev/sign-in")
            assert status == 200
            assert "Alice Baker" in sign_in and "Rose Ash Coop" in sign_in
            assert get(f"{base}/static/css/app.css")[0] == 200
            assert get(f"http://127.0.0.1:{standin_port}/pay/c-unknown")[0] == 404
            # Metrics are kept as in production, in the data folder (emptied at each start).
            assert list((tmp_path / "data" / "metrics").glob("histogram_*.db"))
        finally:
            code, output = stop(process)
        assert code == 0, f"run {run} did not stop cleanly:\n{output[-3000:]}"
        assert "embedded PostgreSQL and Redis stopped" in output
    # The data folder survived the restart: PostgreSQL's cluster and Redis's file are there.
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    assert not _postgres_running(tmp_path / "data" / "postgres")


def _postgres_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_metrics_folder_is_made_and_emptied_at_each_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devtools.serve import prepare_metrics_folder

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    stale = tmp_path / "metrics" / "counter_4242.db"
    stale.parent.mkdir()
    stale.write_bytes(b"counts of the last run")

    folder = prepare_metrics_folder(tmp_path)

    assert folder == tmp_path / "metrics"
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
    assert folder.is_dir() and list(folder.iterdir()) == []
