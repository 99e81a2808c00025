"""Questions, votes and the outbox's counts: what `hubs-bot stats` reads.

Questions are logged off the request path: :meth:`UsageMixin.record_query` queues the row and
one thread per store (:class:`QuestionWriter`) commits what has queued up in one transaction,
at most ``LINGER_S`` after the first of them. A commit with an fsync per question was the
largest cost of answering `/hubs`. Nothing is lost on a clean stop: ``Store.close()`` and the
interpreter's exit (a gunicorn worker after SIGTERM) write the rest, and a read of the log in
the same process waits for the queue first. Another process sees a question within about
``LINGER_S``; a killed process (SIGKILL, power loss) loses at most that much.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from bot.store.base import StoreBase
from bot.store.schema import (
    feedback,
    normalise_query,
    outbox,
    query_log,
    utcnow,
)

log = logging.getLogger(__name__)

LINGER_S = 0.5  # the longest a queued question waits for companions before its commit
MAX_BATCH = 500
CLOSE_TIMEOUT_S = 10.0

_STOP = object()


class QuestionWriter:
    """Rows queued by any thread, written by one: ``add`` never touches the database."""

    def __init__(
        self,
        write: Callable[[list[dict[str, Any]]], None],
        *,
        linger_s: float = LINGER_S,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._write = write
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._hurry = threading.Event()  # a flush or close is waiting

    def add(self, row: dict[str, Any]) -> None:
        if self._closed:  # after close (a straggler at exit): write it at once
            self._commit([row])
            return
        self._queue.put(row)
        if self._thread is None:
            self._start()

    def flush(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Wait until every row queued before this call is committed (or given up)."""
        if self._thread is None or self._closed:
            return True
        written = threading.Event()
        self._queue.put(written)
        self._hurry.set()
        return written.wait(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Write what is queued and stop the thread; run at exit too."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        atexit.unregister(self.close)
        if thread is not None:
            self._queue.put(_STOP)
            self._hurry.set()
            thread.join(timeout)
        rest = []  # rows the thread did not reach (it timed out, or they came after _STOP)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, dict):
                rest.append(item)
            elif isinstance(item, threading.Event):
                item.set()
        if rest:
            self._commit(rest)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name="hubs-questions", daemon=True)
            self._thread.start()
        # a gunicorn worker leaves through sys.exit after its graceful stop: write the rest
        atexit.register(self.close)

    def _run(self) -> None:
        """Wait for a first row, let more gather for ``linger_s`` (asleep: a row queued
        meanwhile does not wake this thread, so asking costs the request thread nothing
        more), then commit them all. ``flush`` and ``close`` cut the wait short."""
        while True:
            first = self._queue.get()
            if not isinstance(first, threading.Event) and first is not _STOP:
                self._hurry.wait(self._linger_s)
            self._hurry.clear()
            items = [first]
            while len(items) < self._max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [item for item in items if isinstance(item, dict)]
            if rows:
                self._commit(rows)
            for item in items:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is _STOP for item in items):
                return

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        try:
            self._write(rows)
        except Exception:  # the database being down must not end the writer
            log.exception("could not record questions", extra={"questions": len(rows)})


class UsageMixin(StoreBase):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._questions = QuestionWriter(self._insert_questions)

    def record_query(self, source: str, query: str, section_key: str | None) -> None:
        """One row per question asked in Slack: what people look for, and what is missing.
        Queued: written within ``LINGER_S`` by the store's writer thread."""
        self._questions.add(
            {
                "asked_at": utcnow(),
                "source": source,
                "query": normalise_query(query),
                "section_key": section_key,
            }
        )

    def flush_queries(self) -> bool:
        """Commit every question queued so far (False if that took too long)."""
        return self._questions.flush()

    def _insert_questions(self, rows: list[dict[str, Any]]) -> None:
        with self.write() as conn:
            conn.execute(insert(query_log), rows)

    def close(self) -> None:
        self._questions.close()
        super().close()

    def record_feedback(
        self,
        voter: str,
        query: str,
        section_key: str,
        vote: int,
        clicked_at: datetime | None = None,
    ) -> None:
        """👍 (+1) or 👎 (-1) on an answer; the voter's latest click counts. ``clicked_at``:
        when the click happened (default: now). Votes are recorded after Slack's ack, each in
        a thread of its own, so two quick clicks can be written in either order: the one
        clicked last is kept, not the one written last."""
        values = {
            "voter": voter,
            "query": normalise_query(query),
            "section_key": section_key,
            "vote": 1 if vote > 0 else -1,
            "voted_at": clicked_at or utcnow(),
        }
        with self.write() as conn:
            conn.execute(self._upsert(feedback, values, newest_by="voted_at"))

    def usage_since(self, since: datetime) -> tuple[list[tuple], list[tuple]]:
        """(query rows, feedback rows) since a moment, for `hubs-bot stats` (questions this
        process has queued included)."""
        self.flush_queries()
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
