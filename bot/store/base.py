"""The bot's shared state in SQL: digest runs, bag and channels, processed Slack events,
questions and feedback, and (in multi-workspace mode) Slack installations.

Everything that must hold across restarts, retries and several running copies lives here and
is decided by the database, never by process memory: a unique key plus
``INSERT … ON CONFLICT DO NOTHING`` makes "who got there first" one atomic statement on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Self

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.engine import make_url

from bot.store.schema import MIGRATIONS, metadata, schema_version

log = logging.getLogger(__name__)


class StoreBase:
    """The engine, its transactions and the dialect's ``ON CONFLICT``: what every part of
    :class:`~bot.store.Store` shares."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    # ------------------------------------------------------------------ setup

    @classmethod
    def connect(cls, url: str) -> Self:
        """Open (and create or upgrade) the database at a SQLAlchemy URL."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        store = cls(engine)
        store.migrate()
        return store

    @classmethod
    def connect_without_creating(cls, url: str) -> Self:
        """For looking, not keeping (``digest --preview``): a SQLite file that does not exist
        yet is not created; an empty in-memory database stands in for it."""
        parsed = make_url(url)
        database = parsed.database
        if (
            parsed.get_backend_name() == "sqlite"
            and database
            and database != ":memory:"
            and not Path(database).exists()
        ):
            return cls.connect("sqlite://")
        return cls.connect(url)

    def migrate(self) -> int:
        """Apply missing migrations; safe when several processes start at once."""
        with self._schema_change() as conn:
            metadata.create_all(conn, tables=[schema_version])
            current = conn.execute(select(schema_version.c.version)).scalar()
            if current is None:
                conn.execute(self._insert_ignore(schema_version).values(id=1, version=0))
                current = conn.execute(select(schema_version.c.version)).scalar_one()
            for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
                migration(conn)
                conn.execute(update(schema_version).values(version=number))
                log.info("schema migrated", extra={"version": number})
        return len(MIGRATIONS)

    def ensure_tables(self, other: MetaData) -> None:
        """Create another library's tables if missing (slack_sdk's installation and OAuth
        state stores define their own), serialised like migrations."""
        with self._schema_change() as conn:
            other.create_all(conn)

    @contextmanager
    def _schema_change(self) -> Iterator[Connection]:
        """A write transaction that one process at a time may run: on PostgreSQL it also
        takes an advisory lock (replicas starting together would race even to create the
        version table; found by tests/slack/test_replicas.py)."""
        with self.write() as conn:
            if self._dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def write(self) -> AbstractContextManager[Connection]:
        """A write transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE): a
        DEFERRED one that reads first and writes second can fail at once with "database is
        locked" when another writer got there between (SQLite does not wait on a lock
        upgrade). Found by two clocks racing in tests/digest/test_digest.py."""
        return self.engine.execution_options(sqlite_begin="IMMEDIATE").begin()

    def _insert_ignore(self, table: Table):
        """``INSERT … ON CONFLICT DO NOTHING`` for the engine's dialect. Ask it ``RETURNING``
        to learn whether the row landed: psycopg reports no rowcount for it."""
        return self._dialect_insert(table).on_conflict_do_nothing()

    def _upsert(self, table: Table, values: dict[str, object], newest_by: str | None = None):
        """``INSERT … ON CONFLICT (primary key) DO UPDATE``: one atomic statement in which
        the latest write wins, where an update-then-insert pair could lose a concurrent one.
        ``newest_by``: a column that decides instead: the row with its highest value is kept,
        whichever write comes last."""
        statement = self._dialect_insert(table).values(**values)
        keys = [column.name for column in table.primary_key]
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in values if name not in keys},
            where=None
            if newest_by is None
            else table.c[newest_by] <= statement.excluded[newest_by],
        )

    def _dialect_insert(self, table: Table):
        # Each dialect's module is imported by need: PostgreSQL's (with its asyncpg variant)
        # costs ~60 ms of every start that uses SQLite.
        if self._dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        if self._dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            return sqlite.insert(table)
        raise NotImplementedError(f"no ON CONFLICT support for {self._dialect}")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the web process read while the clock writes; busy_timeout waits for locks.
    The driver's own implicit transactions are turned off so ``_sqlite_begin`` decides."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL is a property of the file, set once; switching ignores busy_timeout, so processes
    # opening a new database together retry rather than fail.
    for attempt in range(50):
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            break
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            time.sleep(0.05 * (attempt + 1))
    # with WAL, NORMAL syncs at checkpoints, not at every commit: a power loss may undo the
    # last commits but never corrupts the file (an application crash loses nothing)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Emit BEGIN ourselves (pysqlite skips it before DDL): a migration asks for IMMEDIATE,
    taking the write lock first, so processes starting together upgrade one at a time."""
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
