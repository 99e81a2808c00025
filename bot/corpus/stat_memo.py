"""Each corpus file's parse-cache key remembered by the file's stat signature, so a start
with nothing changed learns every key without reading every file (at 10,000 playbooks, reading
and hashing them was 0.7 s of a 4 s start). Git's index does the same.

The key is still the hash of the file's bytes; the memo only skips reading a file whose size,
timestamps, inode and device are all as they were when its key was computed (an edit changes
the ctime even when the size and mtime are put back). Racy-git protection: a file whose mtime
or ctime is not :data:`RACY_MARGIN_NS` older than when the memo was written could have been
edited again within the same timestamp tick, keeping its signature, so it is read anyway and
the memo rewritten until it is old enough to trust. The memo holds the parser's fingerprint
(every key depends on it) and is dropped when that changes. Like the other caches it is an
optimisation: anything unreadable or malformed is ignored, and only hubs-bot writes there.
"""

from __future__ import annotations

import logging
import pickle
import time
from pathlib import Path

from bot.corpus import cache

log = logging.getLogger(__name__)

RACY_MARGIN_NS = 2_000_000_000
"""How much older than the memo a file's timestamps must be for its entry to be trusted: far
more than any file system's timestamp granularity (FAT: 2 s; most: 1 ns to 1 s)."""

Signature = tuple[int, int, int, int, int]
Entry = tuple[Signature, str]


def signature(path: Path) -> Signature:
    """What must be unchanged for a file's bytes to be taken as unchanged; raises OSError."""
    stat = path.stat()
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


class StatMemo:
    """One pass over the corpus: :meth:`key` for each file, then :meth:`save`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._parser = cache.parser_fingerprint()  # looked up as ParseCache.key does
        self._remembered, self._trusted_before = self._load()
        self._seen: dict[str, Entry] = {}
        self.reads = 0

    def key(self, path: Path) -> str:
        """``ParseCache.key`` of the file's current bytes, read only when its signature
        changed or is too recent to trust; raises OSError when the file cannot be read."""
        current = signature(path)  # before reading: a later edit changes it, so is seen later
        remembered = self._remembered.get(str(path))
        if (
            isinstance(remembered, tuple)
            and len(remembered) == 2
            and remembered[0] == current
            and isinstance(remembered[1], str)
            and max(current[1], current[2]) < self._trusted_before
        ):
            key = remembered[1]
        else:
            key = cache.ParseCache.key(path, path.read_bytes())
            self.reads += 1
        self._seen[str(path)] = (current, key)
        return key

    def save(self) -> None:
        """Remember the files seen, when anything was read or a file has gone: a pass that
        read nothing leaves the memo as it is (and its write time, which entries are judged
        against)."""
        if not self.reads and self._seen.keys() == self._remembered.keys():
            return
        memo = {"parser": self._parser, "written_ns": time.time_ns(), "entries": self._seen}
        try:
            cache.dump_atomically(self._path, memo)
        except OSError as exc:  # a read-only data dir costs start-up time, not answers
            log.info("cannot save the stat memo", extra={"error": str(exc)})

    def _load(self) -> tuple[dict[str, object], int]:
        """The entries and the time before which a file's timestamps must fall for its entry
        to be trusted; nothing when the memo is missing, unreadable or from another parser."""
        try:
            with self._path.open("rb") as handle:
                memo = pickle.load(handle)
        except FileNotFoundError:
            return {}, 0
        except Exception as exc:  # corrupt, truncated, or from other code: read every file
            log.info("stat memo unusable; reading every file", extra={"error": str(exc)})
            return {}, 0
        if (
            not isinstance(memo, dict)
            or memo.get("parser") != self._parser
            or not isinstance(memo.get("written_ns"), int)
            or not isinstance(memo.get("entries"), dict)
        ):
            return {}, 0
        return memo["entries"], memo["written_ns"] - RACY_MARGIN_NS
