"""Parsed playbooks kept by their bytes, so a reload or a restart parses only what changed.

Parsing is the slow step of loading (~1.4 ms a playbook, most of it reading the parser's
events in Python: 1.4 s at 1,000 on one core). Results are keyed by a SHA-256 of the parser's
source code, the file's path and its exact bytes (a stale entry cannot be hit, whatever the
file's timestamps say) and kept in memory (the ones the current corpus uses) and, when a
directory is given, on disk as one pack of every entry (``<data dir>/cache/parsed/``).

Why one pack and not a file per playbook: creating a small file costs 0.05-0.9 ms on these
machines, which at 10,000 playbooks was seconds of a first start; one pickle of them all
takes ~0.1 ms a playbook. The pack is read once, at a process's first miss, and rewritten
when enough was parsed to repay it (see :data:`REWRITE_RATIO`). The disk copy is an
optimisation only: an unreadable, corrupt or unwritable pack, or a malformed entry, is
ignored and the file is parsed again. Only hubs-bot writes there; a pickle from elsewhere
must never be put in it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import pickle
import shutil
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.corpus.model import Playbook, Problem
from bot.corpus.parallel import may_fork

log = logging.getLogger(__name__)

Parsed = tuple[Playbook | None, Sequence[Problem]]


PACK = "parsed.pickle"
REWRITE_RATIO = 10
"""The pack is rewritten when at least one entry in this many was parsed since: parsing a
file costs about ten times what storing its entry does, so a reload after one edit at 10,000
playbooks does not rewrite them all (the next start parses that file again instead)."""


WRITER_NAME = "hubs-writecache"  # the writing process's name (Linux: at most 15 bytes)


class CacheWriter:
    """When the caches' files are written: at once (the default), or, holding, only at
    :meth:`write_in_background`. `serve` holds what a first start built and has a process
    of its own write it once it is ready to fork its workers: pickling the parsed corpus and
    the index is 2.5 s at 10,000 playbooks, which a start need not wait for (a start that
    comes before the writer is done builds again, as it would have without the files)."""

    def __init__(self, *, hold: bool = False) -> None:
        self._hold = hold
        self._pending: dict[str, Callable[[], None]] = {}  # the last write of each file

    def write(self, name: str, job: Callable[[], None]) -> None:
        """Run ``job`` (which writes the file ``name`` and logs its own failures) now, or
        later when holding; a later job for the same file replaces an earlier one."""
        if self._hold:
            self._pending[name] = job
        else:
            job()

    def write_in_background(self) -> int | None:
        """Write what is held, in a process of its own that exits when done; stop holding.
        That process's pid, or None when written here instead: nothing held, no ``fork``, or
        other threads running (a fork copies their locks mid-use)."""
        jobs, self._pending, self._hold = list(self._pending.values()), {}, False
        if not jobs:
            return None
        if not may_fork():
            _run_each(jobs)
            return None
        # Forked twice: the child forks the writer and exits at once, and is reaped here, so
        # the writer belongs to init and never lingers as a zombie of this process (gunicorn's
        # master reaps only the children it sees exit after it starts).
        read_end, write_end = os.pipe()
        child = os.fork()
        if child:
            os.close(write_end)
            with os.fdopen(read_end, "rb") as pipe:
                writer = int(pipe.read() or 0)
            os.waitpid(child, 0)
            log.info("caches being written in the background", extra={"pid": writer})
            return writer or None
        os.close(read_end)
        writer = os.fork()
        if writer:
            os.write(write_end, str(writer).encode())
            os._exit(0)
        os.close(write_end)
        # the writer: a copy of this process at the fork, gone once the files are written
        # (a SIGTERM to the whole group must not leave half a file behind); named, so `ps`
        # and benchmarks can tell it from the server
        with contextlib.suppress(OSError):
            Path("/proc/self/comm").write_text(WRITER_NAME)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            _run_each(jobs)
        finally:
            os._exit(0)  # nothing of the parent's to clean up: its exit handlers are its own


def _run_each(jobs: Sequence[Callable[[], None]]) -> None:
    """Every job, whatever the others do: one cache file failing costs only its own speed-up."""
    for job in jobs:
        try:
            job()
        except Exception:
            log.exception("writing a cache file failed")


class ParseCache:
    def __init__(self, directory: Path | None = None, writer: CacheWriter | None = None) -> None:
        self._memory: dict[str, Parsed] = {}
        self._directory = directory
        self._writer = writer or CacheWriter()
        self._pack: dict[str, object] | None = None  # read at the first miss, dropped after
        self._pack_read = False
        self._parsed = 0  # entries put since the pack was last written
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(path: Path, raw: bytes) -> str:
        digest = hashlib.sha256(f"{parser_fingerprint()}\0{path}\0".encode())
        digest.update(raw)
        return digest.hexdigest()

    def get(self, key: str) -> Parsed | None:
        found = self._memory.get(key)
        if found is None and self._directory is not None:
            found = self._from_pack(key)
            if found is not None:
                self._memory[key] = found
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: str, parsed: Parsed) -> None:
        self._memory[key] = (parsed[0], tuple(parsed[1]))
        self._parsed += 1

    def retain(self, keys: set[str]) -> None:
        """End of a load: forget what the current corpus no longer uses, and store the rest
        when enough of it is new."""
        for key in self._memory.keys() - keys:
            del self._memory[key]
        self._pack = None  # what the load needed from it is in memory now
        parsed_enough = self._parsed * REWRITE_RATIO >= len(self._memory)
        if self._directory is not None and self._parsed and parsed_enough:
            self._parsed = 0
            self._writer.write(PACK, functools.partial(self._write, dict(self._memory)))

    def _from_pack(self, key: str) -> Parsed | None:
        if not self._pack_read:  # once a process: later misses are edits, never in it
            self._pack_read = True
            self._pack = self._read()
        found = self._pack.get(key) if self._pack is not None else None
        return found if _well_formed(found) else None  # type: ignore[return-value]

    def _read(self) -> dict[str, object] | None:
        assert self._directory is not None
        path = self._directory / PACK
        try:
            with path.open("rb") as handle:
                pack = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as exc:  # corrupt or from another version: parse again
            log.info("ignoring the parse cache", extra={"path": str(path), "error": str(exc)})
            return None
        return pack if isinstance(pack, dict) else None

    def _write(self, entries: dict[str, Parsed]) -> None:
        assert self._directory is not None
        try:
            dump_atomically(self._directory / PACK, entries)
        except OSError as exc:  # a read-only data dir costs speed, not answers
            log.info("cannot store the parse cache", extra={"error": str(exc)})
            return
        for legacy in self._directory.glob("[0-9a-f][0-9a-f]"):  # a file per entry, before
            shutil.rmtree(legacy, ignore_errors=True)


def dump_atomically(path: Path, value: object) -> None:
    """Pickle ``value`` to ``path`` through a temporary file in the same directory and a
    rename: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # named by process and thread, so concurrent writers never share one (a third of the
    # cost of tempfile's random names, which matters at a thousand files a load)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with partial.open("wb") as handle:
            pickle.dump(value, handle, protocol=5)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@functools.cache
def parser_fingerprint() -> str:
    """A hash of the parser's own source (this package): any change to how files are read
    makes every earlier entry unreachable, without a version number to remember to bump."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


def _well_formed(parsed: object) -> bool:
    return (
        isinstance(parsed, tuple)
        and len(parsed) == 2
        and (parsed[0] is None or isinstance(parsed[0], Playbook))
        and all(isinstance(problem, Problem) for problem in parsed[1])
    )
