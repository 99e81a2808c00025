"""The tables, their migrations and the records read from them.

Schema upgrades: a one-row ``schema_version`` table and an ordered list of migration functions
(:data:`MIGRATIONS`). Start-up applies the missing ones in a transaction. Chosen over Alembic
because the schema is a handful of small tables and the bot must upgrade itself on start (``clock``
and ``serve`` both do) without a separate migration step or config file; move to Alembic when
migrations need branching or downgrades.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


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
    Column("vote", Integer, nullable=False),  # +1 / -1; the later click (voted_at) wins
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


# HUBS_CORPUS_GIT: what every replica must serve, which webhook deliveries were handled, and
# which commits the maintainers were told about. ``source`` names the repository and ref (a
# hash: never the URL, which may have held a token).
git_wanted = Table(
    "git_wanted",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),  # +1 on every webhook or newer commit seen
    Column("commit_sha", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

git_deliveries = Table(
    "git_deliveries",
    metadata,
    Column("delivery_id", String(128), primary_key=True),  # X-GitHub-Delivery, GitLab's UUID
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
)

git_notices = Table(
    "git_notices",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("commit_sha", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # problems | clear
    Column("paths", Text, nullable=False),  # JSON list: the files with problems
    Column("posted_at", DateTime(timezone=True), nullable=False),
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


def _v5_git(conn: Connection) -> None:
    metadata.create_all(conn, tables=[git_wanted, git_deliveries, git_notices])


MIGRATIONS: Sequence[Callable[[Connection], None]] = (
    _v1_initial,
    _v2_feedback,
    _v3_workspaces,
    _v4_outbox,
    _v5_git,
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
