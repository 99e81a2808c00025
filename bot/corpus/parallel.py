"""Parse many playbook files on every core the process may use.

Reading a file's parser events into sections is Python (~1.4 ms a file), so a first load of
a large corpus is CPU-bound in one core while the others idle. Files are independent, so the
misses of a load are parsed in worker processes, in batches (bounded memory: the bytes of the
batches under way, never the whole corpus's) and in order. Small loads stay in-process:
starting workers costs more than a few dozen files take (a few hundred when the workers must
be spawned).

Workers are forked when this process runs no other thread (the command line, gunicorn's
master at start): nothing is re-imported and no script is re-run. With other threads running
(a reload beside the file watcher and the request threads) they are *spawned* instead, since a
fork would copy another thread's locks mid-use. Either way nothing lingers once the load is
done. If the workers cannot start or die, the batch is parsed in-process: a load never fails
because of the pool. A spawned worker imports the main module, so a script that loads a
corpus at import time while running threads needs the usual ``if __name__ == "__main__":``
guard (or ``workers=1``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType

from bot.corpus.model import Playbook, Problem

log = logging.getLogger(__name__)

Job = tuple[Path, bytes | None]  # a file, and its bytes when they were read already
Parsed = tuple[Playbook | None, Sequence[Problem]]
Parse = Callable[[Path, bytes | None], Parsed]

# Files a worker must have to repay its start: a forked one starts at once, a spawned one
# imports the package (and the main script's imports) first, ~0.5-1 s.
MIN_FILES_PER_WORKER = 48
MIN_FILES_PER_SPAWNED_WORKER = 250
MAX_WORKERS = 8
BATCH_FILES = 512  # at most this many files' bytes held at once


def worker_count(
    files: int, requested: int | None = None, per_worker: int = MIN_FILES_PER_WORKER
) -> int:
    """Workers for ``files`` misses: ``requested`` when given (0 or 1: in-process), else one
    per usable core, each with at least ``per_worker`` files."""
    if requested is not None:
        return max(requested, 1)
    if multiprocessing.parent_process() is not None:
        return 1  # a worker itself (or a script without a __main__ guard re-run in one)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_WORKERS, files // per_worker))


def may_fork() -> bool:
    """Whether this process may fork a copy of itself: the platform can, and no other thread
    runs (a fork copies their locks mid-use, and the child could wait on one for ever)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _start_method() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context("fork" if may_fork() else "spawn")


class ParallelParser:
    """``parse(jobs)`` returns ``parse_one``'s result for each job, in order; with one worker
    it runs in-process. ``start(jobs)`` hands them to the workers and returns at once, so the
    caller can go on with other work (read the next batch, import what it serves with) while
    they parse. Use as a context manager so the workers stop with the load."""

    def __init__(self, parse_one: Parse, workers: int | None = None) -> None:
        self._parse_one = parse_one  # a module-level function: workers import it by name
        self._requested = workers
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0

    def __enter__(self) -> ParallelParser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def parse(self, jobs: Sequence[Job]) -> list[Parsed]:
        return self.start(jobs).results()

    def start(self, jobs: Sequence[Job]) -> Parsing:
        """Workers start at the first batch large enough to repay them (a reload of three
        edited files stays in-process) and serve the batches after it."""
        method = _start_method()
        per_worker = MIN_FILES_PER_WORKER
        if method.get_start_method() != "fork":
            per_worker = MIN_FILES_PER_SPAWNED_WORKER
        workers = self._pool_size or worker_count(len(jobs), self._requested, per_worker)
        if workers > 1 and len(jobs) > 1:
            try:
                return Parsing(self, jobs, self._in_workers(jobs, workers, method))
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                self._give_up_on_workers(exc, len(jobs))
        return Parsing(self, jobs, None)

    def _in_workers(
        self, jobs: Sequence[Job], workers: int, method: multiprocessing.context.BaseContext
    ) -> Iterator[Parsed]:
        """The jobs submitted now (the pool's ``map`` submits every job at once); the
        iterator yields their results in order."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(workers, mp_context=method)
            self._pool_size = workers
        chunk = max(1, min(16, len(jobs) // (workers * 4)))
        paths = [path for path, _ in jobs]
        raws = [raw for _, raw in jobs]
        return self._pool.map(self._parse_one, paths, raws, chunksize=chunk)

    def _give_up_on_workers(self, exc: BaseException, files: int) -> None:
        log.warning(
            "parse workers failed; parsing in-process instead",
            extra={"error": str(exc), "files": files},
        )
        self.close()
        self._requested = 1

    def in_process(self, jobs: Sequence[Job]) -> list[Parsed]:
        return [self._parse_one(path, raw) for path, raw in jobs]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool, self._pool_size = None, 0


class Parsing:
    """Jobs handed to the workers (or to be parsed here, ``underway`` None): ``results()``
    waits for them. If the workers fail meanwhile, the batch is parsed in-process."""

    def __init__(
        self, parser: ParallelParser, jobs: Sequence[Job], underway: Iterator[Parsed] | None
    ) -> None:
        self._parser = parser
        self._jobs = jobs
        self._underway = underway

    def results(self) -> list[Parsed]:
        if self._underway is not None:
            try:
                return list(self._underway)
            # a later batch of a pool that broke may find its jobs cancelled
            except (BrokenProcessPool, CancelledError, OSError, RuntimeError) as exc:
                self._parser._give_up_on_workers(exc, len(self._jobs))
        return self._parser.in_process(self._jobs)
