"""SQLite's one lock path that busy_timeout does not cover: switching a database to WAL.

Processes opening a new database together each try ``PRAGMA journal_mode=WAL``; the switch
fails at once with "database is locked" while another connection holds a lock (SQLite does
not wait there), so :func:`bot.store.base._sqlite_pragmas` retries with a growing pause."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event

from bot.store import Store, base


def test_a_store_opened_while_another_holds_the_lock_waits_and_gets_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hubs.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # another process, mid-write
    holder.execute("INSERT INTO t VALUES (1)")

    pauses: list[float] = []

    def pause(seconds: float) -> None:
        """Instead of sleeping: note the pause; the other writer finishes after two."""
        pauses.append(seconds)
        if len(pauses) == 2:
            holder.execute("COMMIT")

    monkeypatch.setattr(base.time, "sleep", pause)
    store = Store.connect(f"sqlite:///{path}")
    try:
        assert pauses == [0.05, 0.1]  # two refusals, a longer pause after each
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert store.claim_event("Ev1") is True  # and it works
    finally:
        store.close()
        holder.close()


def test_a_database_already_in_wal_is_not_switched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hubs.sqlite3"
    Store.connect(f"sqlite:///{path}").close()  # created, and switched to WAL
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # would refuse a switch, not a read of the mode
    monkeypatch.setattr(base.time, "sleep", lambda _s: pytest.fail("it retried"))
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", base._sqlite_pragmas)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        holder.close()
