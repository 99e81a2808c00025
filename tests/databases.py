"""Real databases for tests: a SQLite file, and a throwaway PostgreSQL cluster.

The PostgreSQL cluster is started once per session from the server binaries on the machine
(Debian's ``postgresql`` package: /usr/lib/postgresql/*/bin), on a free loopback port, and
each test gets its own fresh database. Where the binaries are missing the PostgreSQL tests
skip with a reason naming them — except in CI (``CI=true``), where any skipped test marked
``postgres`` is reported as a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.net import free_port

PG_USER = "hubs"


def find_postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root; CI runs as root, so step down to `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PostgresCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="hubs-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")

    def start(self) -> None:
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                PG_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ]
        )
        self.resume()

    def stop(self) -> None:
        self.pause()
        shutil.rmtree(self.base, ignore_errors=True)

    def pause(self) -> None:
        """Stop the server but keep its data: an outage, for fault tests."""
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])

    def resume(self) -> None:
        options = f"-p {self.port} -k {self.base} -h 127.0.0.1 -F -c fsync=off"
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run(_as_postgres_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


MISSING_BINARIES = (
    "PostgreSQL server binaries initdb and pg_ctl not found (looked in "
    "/usr/lib/postgresql/*/bin and on PATH): apt-get install postgresql"
)


def skip_without_postgres() -> Path:
    """The server binaries' directory, or a skip naming what is missing (a failure in CI:
    see :func:`pytest_runtest_makereport`)."""
    bindir = find_postgres_bin()
    if bindir is None:
        pytest.skip(MISSING_BINARIES)
    return bindir


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """In CI (``CI=true``) a PostgreSQL test that skipped, for whatever reason, fails: a run
    that quietly left out the second database must not pass."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") == "true" and item.get_closest_marker("postgres"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI=true, yet this PostgreSQL test was skipped: {reason}"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bindir = skip_without_postgres()
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on a fresh SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'hubs-bot.sqlite3'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()
