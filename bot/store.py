"""The bot's shared state in SQL: digest runs, bag and channels, processed Slack events,
questions and feedback, and (in multi-workspace mode) Slack installations.

Everything that must hold across restarts, retries and several running copies lives here and
is decided by the database, never by process memory: a unique key plus
``INSERT … ON CONFLICT DO NOTHING`` makes "who got there first" one atomic statement on SQLite
and PostgreSQL alike.

Schema upgrades: a one-row ``schema_version`` table and an ordered list of migration functions
(:data:`MIGRATIONS`). Start-up applies the missing ones in a transaction. Chosen over Alembic
because the schema is a handful of small tables and the bot must upgrade itself on start (``clock``
and ``serve`` both do) without a separate migration step or config file; move to Alembic when
migrations need branching or downgrades.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

digest_runs = Table(
    "digest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("week", String(8), nullable=False),  # ISO year-week, "2026-W48"
    Column("item_id", String(512)),
    Column("status", String(16), nullable=False),  # claimed | posted | failed
    Column("attempts", Integer, nullable=False, default=1),
    Column("message_ts", String(32)),
    Column("error", Text),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    UniqueConstraint("channel", "week", name="uq_digest_runs_channel_week"),
)

digest_bag = Table(
    "digest_bag",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("cycle", Integer, primary_key=True),
    Column("item_id", String(512), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("drawn_week", String(8)),
)

slack_events = Table(
    "slack_events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


query_log = Table(
    "query_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_at", DateTime(timezone=True), nullable=False, index=True),
    Column("source", String(16), nullable=False),  # slash | mention | dm | shortcut
    Column("query", String(200), nullable=False),  # folded, one line, truncated
    Column("section_key", String(512)),  # the answer shown first; NULL = no match
)

feedback = Table(
    "feedback",
    metadata,
    Column("voter", String(64), primary_key=True),  # a hash of team+user, not the user id
    Column("query", String(200), primary_key=True),
    Column("section_key", String(512), primary_key=True),
    Column("vote", Integer, nullable=False),  # +1 / -1; a second click replaces the first
    Column("voted_at", DateTime(timezone=True), nullable=False, index=True),
)


digest_channels = Table(
    "digest_channels",
    metadata,
    Column("team_id", String(32), primary_key=True),
    Column("channel", String(64)),  # NULL: an admin switched the digest off
    Column("timezone", String(64)),  # the admin's, from Slack; NULL: HUBS_TIMEZONE
    Column("cron", String(64)),  # `/hubs digest here fri 4pm`; NULL: HUBS_DIGEST_CRON
    Column("set_by", String(32), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)


outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(32), nullable=False),  # "" with one workspace; never a token
    Column("message", Text, nullable=False),  # chat.postMessage arguments, JSON
    Column("status", String(16), nullable=False),  # pending | dead (delivered rows go)
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
)


def _v1_initial(conn: Connection) -> None:
    metadata.create_all(conn, tables=[digest_runs, digest_bag, slack_events])


def _v2_feedback(conn: Connection) -> None:
    metadata.create_all(conn, tables=[query_log, feedback])


def _v3_workspaces(conn: Connection) -> None:
    """Per-workspace digest channels. (slack_sdk's installation and OAuth-state tables are
    created by :meth:`Store.ensure_tables` when multi-workspace mode first starts: importing
    slack_sdk's SQLAlchemy stores pulls in SQLAlchemy's ORM and asyncio layers, which
    single-workspace processes should not carry.)"""
    metadata.create_all(conn, tables=[digest_channels])


def _v4_outbox(conn: Connection) -> None:
    metadata.create_all(conn, tables=[outbox])


MIGRATIONS: Sequence[Callable[[Connection], None]] = (
    _v1_initial,
    _v2_feedback,
    _v3_workspaces,
    _v4_outbox,
)
"""Migration *n* (1-based) upgrades schema version n-1 to n. Append; never edit old ones."""

RunStatus = str  # "claimed" | "posted" | "failed"


@dataclass(frozen=True, slots=True)
class DigestRun:
    id: int
    channel: str
    week: str
    item_id: str | None
    status: RunStatus
    attempts: int
    message_ts: str | None
    error: str | None
    claimed_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class BagEntry:
    item_id: str
    cycle: int
    position: int
    drawn_week: str | None


@dataclass(frozen=True, slots=True)
class DigestChannel:
    """A workspace's choice made with `/hubs digest here|off` (channel None: off)."""

    team_id: str
    channel: str | None
    set_by: str
    set_at: datetime
    timezone: str | None = None
    cron: str | None = None


def normalise_query(query: str) -> str:
    """How a question is kept for stats: one line, case-folded, at most 200 characters."""
    return " ".join(query.casefold().split())[:200]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Store:
    """Thin, explicit operations over the tables; each one is its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    # ------------------------------------------------------------------ setup

    @classmethod
    def connect(cls, url: str) -> Store:
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

    def _upsert(self, table: Table, values: dict[str, object]):
        """``INSERT … ON CONFLICT (primary key) DO UPDATE``: one atomic statement in which
        the latest write wins, where an update-then-insert pair could lose a concurrent one."""
        statement = self._dialect_insert(table).values(**values)
        keys = [column.name for column in table.primary_key]
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in values if name not in keys},
        )

    def _dialect_insert(self, table: Table):
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        if self._dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"no ON CONFLICT support for {self._dialect}")

    # ------------------------------------------------------------------ Slack events

    def claim_event(self, event_id: str, now: datetime | None = None) -> bool:
        """True only for the first caller with this event id, across processes and hosts."""
        with self.write() as conn:
            inserted = conn.execute(
                self._insert_ignore(slack_events)
                .values(event_id=event_id, received_at=now or utcnow())
                .returning(slack_events.c.event_id)
            ).first()
        return inserted is not None

    def prune_events(self, older_than: timedelta = timedelta(days=2)) -> int:
        """Slack retries for minutes, not days; old ids only take space."""
        with self.write() as conn:
            result = conn.execute(
                delete(slack_events).where(slack_events.c.received_at < utcnow() - older_than)
            )
        return result.rowcount

    # ------------------------------------------------------------------ usage and feedback

    def record_query(self, source: str, query: str, section_key: str | None) -> None:
        """One row per question asked in Slack: what people look for, and what is missing."""
        with self.write() as conn:
            conn.execute(
                insert(query_log).values(
                    asked_at=utcnow(),
                    source=source,
                    query=normalise_query(query),
                    section_key=section_key,
                )
            )

    def record_feedback(self, voter: str, query: str, section_key: str, vote: int) -> None:
        """👍 (+1) or 👎 (-1) on an answer; the voter's latest click counts."""
        values = {
            "voter": voter,
            "query": normalise_query(query),
            "section_key": section_key,
            "vote": 1 if vote > 0 else -1,
            "voted_at": utcnow(),
        }
        with self.write() as conn:
            conn.execute(self._upsert(feedback, values))

    def usage_since(self, since: datetime) -> tuple[list[tuple], list[tuple]]:
        """(query rows, feedback rows) since a moment, for `hubs-bot stats`."""
        with self.engine.connect() as conn:
            queries = conn.execute(
                select(query_log.c.query, query_log.c.section_key, query_log.c.source).where(
                    query_log.c.asked_at >= since
                )
            ).all()
            votes = conn.execute(
                select(feedback.c.section_key, feedback.c.vote, feedback.c.query).where(
                    feedback.c.voted_at >= since
                )
            ).all()
        return [tuple(r) for r in queries], [tuple(r) for r in votes]

    def outbox_counts(self) -> dict[str, int]:
        """Replies still waiting for Slack (``pending``) and given up (``dead``, kept a week)."""
        with self.engine.connect() as conn:
            query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
            return {"pending": 0, "dead": 0} | dict(conn.execute(query).all())

    # ------------------------------------------------------------------ digest channels

    def set_digest_channel(
        self,
        team_id: str,
        channel: str | None,
        set_by: str,
        now: datetime | None = None,
        timezone: str | None = None,
        cron: str | None = None,
    ) -> None:
        """Record a workspace's digest channel (None switches the digest off there), its
        schedule and the time zone that is read in."""
        values = {
            "channel": channel,
            "timezone": timezone,
            "cron": cron,
            "set_by": set_by,
            "set_at": now or utcnow(),
        }
        with self.write() as conn:
            conn.execute(self._upsert(digest_channels, {"team_id": team_id, **values}))

    def digest_channel(self, team_id: str) -> DigestChannel | None:
        """The workspace's choice, or None when it never made one."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(digest_channels).where(digest_channels.c.team_id == team_id)
            ).first()
        return _to_digest_channel(row) if row else None

    def digest_channels(self) -> list[DigestChannel]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(digest_channels).order_by(digest_channels.c.team_id))
            return [_to_digest_channel(row) for row in rows]

    def forget_workspace(self, team_id: str) -> None:
        """The app was uninstalled from a workspace: stop its digest."""
        with self.write() as conn:
            conn.execute(delete(digest_channels).where(digest_channels.c.team_id == team_id))

    # ------------------------------------------------------------------ digest runs

    def claim_week(self, channel: str, week: str, now: datetime) -> DigestRun | None:
        """Insert this week's run row; the one caller whose insert lands owns the post."""
        with self.write() as conn:
            inserted = conn.execute(
                self._insert_ignore(digest_runs)
                .values(
                    channel=channel,
                    week=week,
                    status="claimed",
                    attempts=1,
                    claimed_at=now,
                    updated_at=now,
                )
                .returning(digest_runs.c.id)
            ).first()
            if inserted is None:  # the unique (channel, week) key said: someone else has it
                return None
            return self._run(conn, channel, week)

    def retake_failed(self, run: DigestRun, now: datetime) -> DigestRun | None:
        """Compare-and-set a failed (or stale claimed) run back to claimed; one winner."""
        with self.write() as conn:
            result = conn.execute(
                update(digest_runs)
                .where(
                    digest_runs.c.id == run.id,
                    digest_runs.c.status == run.status,
                    digest_runs.c.attempts == run.attempts,
                )
                .values(
                    status="claimed",
                    attempts=run.attempts + 1,
                    claimed_at=now,
                    updated_at=now,
                    next_attempt_at=None,
                )
            )
            if result.rowcount != 1:
                return None
            return self._run(conn, run.channel, run.week)

    def set_run_item(self, run_id: int, item_id: str) -> None:
        with self.write() as conn:
            conn.execute(
                update(digest_runs)
                .where(digest_runs.c.id == run_id)
                .values(item_id=item_id, updated_at=utcnow())
            )

    def mark_posted(self, run_id: int, message_ts: str, now: datetime) -> None:
        with self.write() as conn:
            conn.execute(
                update(digest_runs)
                .where(digest_runs.c.id == run_id)
                .values(status="posted", message_ts=message_ts, error=None, updated_at=now)
            )

    def mark_failed(self, run_id: int, error: str, retry_at: datetime, now: datetime) -> None:
        with self.write() as conn:
            conn.execute(
                update(digest_runs)
                .where(digest_runs.c.id == run_id)
                .values(status="failed", error=error, next_attempt_at=retry_at, updated_at=now)
            )

    def posted_runs(self, weeks: Iterable[str]) -> set[tuple[str, str]]:
        """(channel, week) of every run posted in these weeks, in one query."""
        wanted = sorted(set(weeks))
        if not wanted:
            return set()
        query = select(digest_runs.c.channel, digest_runs.c.week).where(
            digest_runs.c.week.in_(wanted), digest_runs.c.status == "posted"
        )
        with self.engine.connect() as conn:
            return {(row.channel, row.week) for row in conn.execute(query)}

    def get_run(self, channel: str, week: str) -> DigestRun | None:
        with self.engine.connect() as conn:
            return self._run(conn, channel, week)

    def delete_run(self, channel: str, week: str) -> None:
        """For ``digest --post-now --force``: forget this week's run so it can be claimed."""
        with self.write() as conn:
            conn.execute(
                delete(digest_runs).where(
                    digest_runs.c.channel == channel, digest_runs.c.week == week
                )
            )

    def history(self, channel: str | None = None, limit: int = 52) -> list[DigestRun]:
        query = select(digest_runs).order_by(digest_runs.c.week.desc(), digest_runs.c.channel)
        if channel:
            query = query.where(digest_runs.c.channel == channel)
        with self.engine.connect() as conn:
            return [_to_run(row) for row in conn.execute(query.limit(limit))]

    @staticmethod
    def _run(conn: Connection, channel: str, week: str) -> DigestRun | None:
        row = conn.execute(
            select(digest_runs).where(digest_runs.c.channel == channel, digest_runs.c.week == week)
        ).first()
        return _to_run(row) if row else None

    # ------------------------------------------------------------------ shuffle bag

    def bag(self, channel: str) -> list[BagEntry]:
        """The current cycle's entries in draw order (drawn ones included)."""
        with self.engine.connect() as conn:
            cycle = self._current_cycle(conn, channel)
            rows = conn.execute(
                select(digest_bag)
                .where(digest_bag.c.channel == channel, digest_bag.c.cycle == cycle)
                .order_by(digest_bag.c.position, digest_bag.c.item_id)
            )
            return [BagEntry(r.item_id, r.cycle, r.position, r.drawn_week) for r in rows]

    def start_cycle(self, channel: str, ordered_item_ids: Sequence[str]) -> int:
        """Begin a new cycle with this order; returns the cycle number."""
        with self.write() as conn:
            cycle = self._current_cycle(conn, channel) + 1
            if ordered_item_ids:
                conn.execute(
                    self._insert_ignore(digest_bag),
                    [
                        {"channel": channel, "cycle": cycle, "item_id": item, "position": i}
                        for i, item in enumerate(ordered_item_ids)
                    ],
                )
            return cycle

    def add_to_cycle(self, channel: str, cycle: int, placed: Iterable[tuple[str, int]]) -> None:
        """New corpus items join the current cycle at the given positions."""
        rows = [
            {"channel": channel, "cycle": cycle, "item_id": item, "position": position}
            for item, position in placed
        ]
        if rows:
            with self.write() as conn:
                conn.execute(self._insert_ignore(digest_bag), rows)

    def remove_from_cycle(self, channel: str, cycle: int, item_ids: Iterable[str]) -> None:
        """Items gone from the corpus leave the cycle (unless already drawn: history)."""
        ids = list(item_ids)
        if ids:
            with self.write() as conn:
                conn.execute(
                    delete(digest_bag).where(
                        digest_bag.c.channel == channel,
                        digest_bag.c.cycle == cycle,
                        digest_bag.c.item_id.in_(ids),
                        digest_bag.c.drawn_week.is_(None),
                    )
                )

    def mark_drawn(self, channel: str, item_id: str, week: str) -> None:
        with self.write() as conn:
            cycle = self._current_cycle(conn, channel)
            conn.execute(
                update(digest_bag)
                .where(
                    digest_bag.c.channel == channel,
                    digest_bag.c.cycle == cycle,
                    digest_bag.c.item_id == item_id,
                )
                .values(drawn_week=week)
            )

    @staticmethod
    def _current_cycle(conn: Connection, channel: str) -> int:
        value = conn.execute(
            select(func.max(digest_bag.c.cycle)).where(digest_bag.c.channel == channel)
        ).scalar()
        return int(value or 0)


def _to_digest_channel(row) -> DigestChannel:
    return DigestChannel(
        row.team_id,
        row.channel,
        row.set_by,
        as_utc(row.set_at),  # type: ignore[arg-type]
        row.timezone,
        row.cron,
    )


def _to_run(row) -> DigestRun:
    return DigestRun(
        id=row.id,
        channel=row.channel,
        week=row.week,
        item_id=row.item_id,
        status=row.status,
        attempts=row.attempts,
        message_ts=row.message_ts,
        error=row.error,
        claimed_at=as_utc(row.claimed_at),  # type: ignore[arg-type]
        updated_at=as_utc(row.updated_at),  # type: ignore[arg-type]
        next_attempt_at=as_utc(row.next_attempt_at),
    )


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
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Emit BEGIN ourselves (pysqlite skips it before DDL): a migration asks for IMMEDIATE,
    taking the write lock first, so processes starting together upgrade one at a time."""
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
