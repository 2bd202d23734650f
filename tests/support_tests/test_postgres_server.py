"""The throwaway PostgreSQL: its own port and folder, restarts on the same URL, clean exit."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from tests.support.servers import PostgresServer, ServerError

MACHINE_PORT = 5432


async def query(url: str, sql: str) -> object:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def test_a_client_connects_again_through_the_same_url_after_a_restart(
    throwaway_postgres: PostgresServer,
) -> None:
    url = throwaway_postgres.url
    assert url.startswith("postgresql://root@127.0.0.1:")
    assert throwaway_postgres.port != MACHINE_PORT
    assert await query(url, "SELECT current_user || '/' || current_database()") == "root/test"
    await query(url, "CREATE TABLE kept (id int)")
    await query(url, "INSERT INTO kept VALUES (1)")

    throwaway_postgres.restart()

    assert throwaway_postgres.url == url
    assert await query(url, "SELECT count(*) FROM kept") == 1


async def test_a_killed_server_recovers_its_committed_rows(
    throwaway_postgres: PostgresServer,
) -> None:
    url = throwaway_postgres.url
    await query(url, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id")

    throwaway_postgres.restart(kill=True)

    assert await query(url, "SELECT count(*) FROM kept") == 100


async def test_clients_in_the_same_loop_see_the_outage_then_the_server_again(
    throwaway_postgres: PostgresServer,
) -> None:
    """The pattern of a fault test: load keeps running while `arestart` holds the server down."""
    url = throwaway_postgres.url
    outcomes: list[tuple[float, bool]] = []
    done = asyncio.Event()

    async def client() -> None:
        while not done.is_set():
            # Each outcome is dated by when its query began: one begun while the server was
            # down may fail only after it is back, under a loaded machine.
            began = time.monotonic()
            try:
                await query(url, "SELECT 1")
                outcomes.append((began, True))
            # A server that goes away mid-query can leave asyncpg's protocol confused
            # (InternalClientError): that too is the outage, as a client sees it.
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
            ):
                outcomes.append((began, False))
            await asyncio.sleep(0.05)

    task = asyncio.create_task(client())
    await asyncio.sleep(0.3)
    await throwaway_postgres.arestart(down_seconds=1.0)
    back_at = time.monotonic()
    await asyncio.sleep(0.3)
    done.set()
    await task

    assert any(ok for _, ok in outcomes), outcomes
    assert not all(ok for _, ok in outcomes), "the server never looked down"
    assert all(ok for at, ok in outcomes if at > back_at), outcomes


async def test_a_stopped_server_refuses_connections_and_starts_on_the_same_port(
    throwaway_postgres: PostgresServer,
) -> None:
    port = throwaway_postgres.port
    throwaway_postgres.stop()
    assert not throwaway_postgres.running
    with pytest.raises(OSError):
        await query(throwaway_postgres.url, "SELECT 1")

    throwaway_postgres.start()

    assert throwaway_postgres.port == port
    assert await query(throwaway_postgres.url, "SELECT 1") == 1


def test_leaving_stops_the_server_and_deletes_its_folder() -> None:
    with PostgresServer(database="other") as server:
        folder = server.folder
        assert server.url.endswith("/other")
        assert (folder / "data" / "PG_VERSION").exists()
    assert not server.running
    assert not folder.exists()


def test_a_server_that_cannot_start_says_why_with_its_log() -> None:
    with pytest.raises(ServerError) as failure:  # noqa: SIM117  (the inner `with` must raise)
        with PostgresServer(settings={"shared_buffers": "'plenty'"}):
            pass
    assert "did not start" in str(failure.value)
    assert "shared_buffers" in str(failure.value)
