"""Questions are logged off the request path, in batches, and none is lost on a clean stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from bot.store import Store
from bot.store.schema import query_log
from bot.store.usage import QuestionWriter

LONG_AGO = datetime.now(UTC) - timedelta(days=1)


def count(url: str) -> int:
    other = Store.connect(url)  # another process's view: only committed rows
    try:
        with other.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(query_log)).scalar_one()
    finally:
        other.close()


def test_record_query_returns_before_the_commit_and_reads_wait_for_it(database_url: str) -> None:
    store = Store.connect(database_url)
    store.record_query("slash", "Pitfalls  of HUBS", None)
    assert count(database_url) == 0  # still queued (the writer lingers for companions)
    queries, _votes = store.usage_since(LONG_AGO)  # a read in the same process flushes
    assert queries == [("pitfalls of hubs", None, "slash")]
    assert count(database_url) == 1
    store.close()


def test_close_writes_what_is_queued(database_url: str) -> None:
    store = Store.connect(database_url)
    for i in range(30):
        store.record_query("mention", f"question {i}", None)
    store.close()
    assert count(database_url) == 30


def test_questions_from_many_threads_are_committed_in_few_transactions() -> None:
    batches: list[int] = []
    writer = QuestionWriter(lambda rows: batches.append(len(rows)), linger_s=0.2)
    threads = [
        threading.Thread(target=lambda: [writer.add({"n": n}) for n in range(50)]) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush()
    assert sum(batches) == 400
    assert len(batches) <= 4, batches
    writer.close()


def test_a_failed_commit_is_logged_and_the_writer_goes_on(caplog) -> None:  # type: ignore[no-untyped-def]
    written: list[dict] = []

    def write(rows: list[dict]) -> None:
        if rows[0]["n"] == 0:
            raise RuntimeError("database away")
        written.extend(rows)

    writer = QuestionWriter(write, linger_s=0.0)
    writer.add({"n": 0})
    assert writer.flush()
    writer.add({"n": 1})
    writer.close()
    assert written == [{"n": 1}]
    assert "could not record questions" in caplog.text


def test_sqlite_runs_in_wal_with_synchronous_normal(tmp_path: Path) -> None:
    store = Store.connect(f"sqlite:///{tmp_path}/hubs.db")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    store.close()
