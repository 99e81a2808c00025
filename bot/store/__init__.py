"""The bot's shared state in SQL: digest runs, bag and channels, processed Slack events,
questions and feedback, the reply outbox and (in multi-workspace mode) Slack installations.

Everything that must hold across restarts, retries and several running copies lives here and
is decided by the database, never by process memory: a unique key plus
``INSERT … ON CONFLICT DO NOTHING`` makes "who got there first" one atomic statement on SQLite
and PostgreSQL alike.

One module per concern, all sharing the engine and its ``write()`` transaction
(:class:`~bot.store.base.StoreBase`): ``events``, ``usage``, ``channels``, ``runs``, ``bag``,
``git``; ``schema`` holds the tables, the migrations and the records. :class:`Store` is all of them.
"""

from __future__ import annotations

from bot.store.bag import BagMixin
from bot.store.base import StoreBase
from bot.store.channels import ChannelsMixin
from bot.store.events import EventsMixin
from bot.store.git import GitMixin, GitNotice, WantedCommit
from bot.store.runs import RunsMixin
from bot.store.schema import (
    MIGRATIONS,
    BagEntry,
    DigestChannel,
    DigestRun,
    as_utc,
    metadata,
    normalise_query,
    outbox,
    schema_version,
    utcnow,
)
from bot.store.usage import UsageMixin

__all__ = [
    "MIGRATIONS",
    "BagEntry",
    "DigestChannel",
    "DigestRun",
    "GitNotice",
    "Store",
    "WantedCommit",
    "as_utc",
    "metadata",
    "normalise_query",
    "outbox",
    "schema_version",
    "utcnow",
]


class Store(EventsMixin, GitMixin, UsageMixin, ChannelsMixin, RunsMixin, BagMixin, StoreBase):
    """Thin, explicit operations over the tables; each one is its own transaction."""
