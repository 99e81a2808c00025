"""Parsed playbooks kept by their bytes, so a reload or a restart parses only what changed.

Parsing is the slow step of loading (~1.4 ms a playbook, most of it reading the parser's
events in Python: 1.4 s at 1,000 on one core). Results are keyed by a SHA-256 of the parser's
source code, the file's path and its exact bytes (a stale entry cannot be hit, whatever the
file's timestamps say) and kept in memory (the ones the current corpus uses) and, when a
directory is given, on disk as one pickle per file (``<data dir>/cache/parsed/``). The disk
copy is an optimisation only: unreadable, corrupt or unwritable entries are ignored and the
file is parsed again. Only hubs-bot writes there; a pickle from elsewhere must never be put in it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import threading
from collections.abc import Sequence
from pathlib import Path

from bot.corpus.model import Playbook, Problem

log = logging.getLogger(__name__)

Parsed = tuple[Playbook | None, Sequence[Problem]]


class ParseCache:
    def __init__(self, directory: Path | None = None) -> None:
        self._memory: dict[str, Parsed] = {}
        self._directory = directory
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
            found = self._read(key)
            if found is not None:
                self._memory[key] = found
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: str, parsed: Parsed) -> None:
        self._memory[key] = parsed
        if self._directory is not None:
            self._write(key, parsed)

    def retain(self, keys: set[str]) -> None:
        """Forget (in memory) what the current corpus no longer uses."""
        for key in self._memory.keys() - keys:
            del self._memory[key]

    def _path(self, key: str) -> Path:
        assert self._directory is not None
        return self._directory / key[:2] / f"{key}.pickle"

    def _read(self, key: str) -> Parsed | None:
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                parsed = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as exc:  # corrupt or from another version: parse again
            log.debug("ignoring a cached parse", extra={"path": str(path), "error": str(exc)})
            return None
        return parsed if _well_formed(parsed) else None

    def _write(self, key: str, parsed: Parsed) -> None:
        path = self._path(key)
        try:
            dump_atomically(path, (parsed[0], tuple(parsed[1])))
        except OSError as exc:  # a read-only data dir costs speed, not answers
            log.debug("cannot cache a parse", extra={"path": str(path), "error": str(exc)})


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
