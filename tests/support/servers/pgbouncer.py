"""A throwaway PgBouncer in transaction pooling mode, in front of a throwaway PostgreSQL.

What the service must do to run behind it (transaction pooling hands each transaction to
whichever server connection is free, so nothing may outlive a transaction):

- Prepared statements: asyncpg names its statements per connection (`__asyncpg_stmt_1__`), so
  two clients sharing one server connection collide ("prepared statement … already exists" or
  "does not exist"). With SQLAlchemy's asyncpg dialect, as its documentation ("Prepared
  Statement Name with PGBouncer") says: `connect_args={"statement_cache_size": 0,
  "prepared_statement_cache_size": 0, "prepared_statement_name_func": lambda:
  f"__asyncpg_{uuid4()}__"}` (the dialect still prepares each statement to learn its result
  types, so names must be unique as well as uncached), and `poolclass=NullPool` or a small
  pool, PgBouncer doing the pooling. Unique names pile up on the server connections unless
  PgBouncer discards them: `PgBouncer(pg, settings={"server_reset_query_always": "1"})` runs
  `DISCARD ALL` after each transaction. With plain asyncpg, `statement_cache_size=0`.
  (PgBouncer 1.21+ tracks protocol-level prepared statements with `max_prepared_statements`;
  Debian 12 ships 1.18, which cannot.)
- Advisory locks only transaction-scoped (`pg_advisory_xact_lock`, `pg_try_advisory_xact_lock`):
  a session lock (`pg_advisory_lock`) stays on a server connection that other clients then use,
  and its unlock may run on another connection. Likewise no `SET` without `LOCAL`, no `LISTEN`,
  no temporary tables or `WITH HOLD` cursors across transactions.
- Migrations (alembic) and other session-minded tools go to PostgreSQL directly, not through it.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.support.servers.base import HOST, ServerError, running_as_root, service_user
from tests.support.servers.foreground import ForegroundServer
from tests.support.servers.postgres import SUPERUSER, PostgresServer

DEBIAN_BINARY = Path("/usr/sbin/pgbouncer")
NOT_INSTALLED = (
    "pgbouncer is not installed: the test command installs Debian's pgbouncer when it runs as "
    "root (apt-get install pgbouncer)"
)
SETTINGS: dict[str, str] = {
    "pool_mode": "transaction",
    "max_client_conn": "1000",
    "default_pool_size": "5",
    "min_pool_size": "0",
    "reserve_pool_size": "0",
    # After PostgreSQL comes back, log in again within a second (the default waits 15).
    "server_login_retry": "1",
    # The JDBC-style parameter some drivers send; PgBouncer refuses unknown ones otherwise.
    "ignore_startup_parameters": "extra_float_digits",
    # Keep the log to what went wrong, so that its tail in a failure message says something.
    "log_connections": "0",
    "log_disconnections": "0",
}


def pgbouncer_binary() -> Path | None:
    """Debian's pgbouncer, if installed."""
    found = shutil.which("pgbouncer")
    if found:
        return Path(found)
    return DEBIAN_BINARY if DEBIAN_BINARY.exists() else None


class PgBouncer(ForegroundServer):
    """PgBouncer on 127.0.0.1:<port> in front of `postgres`, any of its databases by name.

    `pool_mode = transaction`, `max_client_conn = 1000`, `default_pool_size = 5` (per database
    and user): many clients share five server connections. Trust authentication for the users
    given (the superuser `root` by default), who are also PgBouncer admins (`show("POOLS")`).
    `stop()` is SIGTERM (immediate shutdown), `kill()` SIGKILL.
    """

    name = "PgBouncer"

    def __init__(
        self,
        postgres: PostgresServer,
        *,
        port: int | None = None,
        settings: Mapping[str, str] | None = None,
        users: tuple[str, ...] = (SUPERUSER,),
    ) -> None:
        """`settings` are [pgbouncer] lines over SETTINGS, e.g. {"default_pool_size": "2"}."""
        super().__init__(port=port)
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError(NOT_INSTALLED)
        self.binary = binary
        self.postgres = postgres
        self.settings = {**SETTINGS, **(settings or {})}
        self.users = users

    @property
    def url(self) -> str:
        """postgresql://root@127.0.0.1:<port>/<the PostgreSQL's database>, through PgBouncer."""
        return self.url_for(self.postgres.database)

    def url_for(self, database: str) -> str:
        """The URL of another database of the PostgreSQL, through PgBouncer."""
        return f"postgresql://{self.users[0]}@{HOST}:{self.port}/{database}"

    @property
    def admin_url(self) -> str:
        """PgBouncer's admin console (`SHOW POOLS`, `SHOW SERVERS`; simple queries only)."""
        return self.url_for("pgbouncer")

    def show(self, what: str) -> list[dict[str, str]]:
        """A `SHOW <what>` of the admin console (POOLS, SERVERS, CLIENTS, STATS…) as rows.

        Through psql, since the console speaks only the simple query protocol.
        """
        if not what.replace("_", "").isalpha():
            raise ValueError(f"not a SHOW command: {what!r}")
        result = subprocess.run(
            [
                str(self.postgres.bindir / "psql"),
                "--csv",
                "--no-psqlrc",
                "--command",
                f"SHOW {what}",
                self.admin_url,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise ServerError(f"SHOW {what} failed: {result.stderr.strip()}")
        return list(csv.DictReader(io.StringIO(result.stdout)))

    @property
    def config_path(self) -> Path:
        return self.folder / "pgbouncer.ini"

    def _prepare(self) -> None:
        (self.folder / "userlist.txt").write_text("".join(f'"{user}" ""\n' for user in self.users))
        settings = {
            "listen_addr": HOST,
            # The port is set here at each start (see _command).
            "unix_socket_dir": "",
            "auth_type": "trust",
            "auth_file": str(self.folder / "userlist.txt"),
            "admin_users": ",".join(self.users),
            **self.settings,
        }
        self._settings_text = "".join(f"{key} = {value}\n" for key, value in settings.items())

    def _command(self) -> list[str]:
        self.config_path.write_text(
            "[databases]\n"
            f"* = host={HOST} port={self.postgres.port}\n"
            "[pgbouncer]\n"
            f"listen_port = {self.port}\n" + self._settings_text
        )
        # PgBouncer refuses to run as root; -u makes it switch to the unprivileged user.
        user = ["-u", service_user().pw_name] if running_as_root() else []
        return [str(self.binary), *user, str(self.config_path)]
