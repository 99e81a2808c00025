"""The whole index on disk, so a restart with an unchanged corpus starts in a fraction of the
time parsing and indexing take (at 1,000 playbooks: seconds of work against one read).

The file is named by a fingerprint of everything the index is built from: each corpus
file's parse-cache key (its path, its exact bytes and the parser's source), the alias and
cue tables, the search code's own source and the versions of the libraries whose output it
stores (bm25s, numpy, pyspellchecker's word list). Any change makes a new name; only the
newest file is kept. An index with the semantic extra is never cached (it holds the model).
The keys of files whose stat signature is unchanged come from a :class:`StatMemo` kept beside
the index, so a start with nothing changed need not read every corpus file to name it.
Like the parse cache this is an optimisation: anything unreadable is rebuilt, and only
hubs-bot writes there.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import logging
import pickle
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.bulk import collector_paused
from bot.corpus import CorpusLoad, iter_corpus_files, require_playbooks
from bot.corpus.cache import CacheWriter, ParseCache, dump_atomically
from bot.corpus.stat_memo import StatMemo
from bot.search.english import load_english
from bot.search.index import Index
from bot.search.semantic import Embedder, embedder_for
from bot.settings import Settings

log = logging.getLogger(__name__)

LIBRARIES = ("bm25s", "numpy", "pyspellchecker", "PyStemmer", "rapidfuzz")
STAT_MEMO = "stat-memo.pickle"  # each file's key by its stat signature, beside the index


class IndexCache:
    def __init__(self, directory: Path, writer: CacheWriter | None = None) -> None:
        self._directory = directory
        self._writer = writer or CacheWriter()

    def fingerprint(
        self,
        directories: Sequence[Path],
        aliases: Mapping[str, Sequence[str]] | None,
        cues: Mapping[str, Sequence[str]] | None,
    ) -> str | None:
        """What the index would be built from, hashed; None when a file cannot be read
        (the build will report it)."""
        digest = hashlib.sha256(code_fingerprint().encode())
        digest.update(json.dumps([aliases, cues, list(map(str, directories))]).encode())
        memo = StatMemo(self._directory / STAT_MEMO)
        for path in iter_corpus_files([d for d in directories if d.exists()]):
            try:
                digest.update(memo.key(path).encode())
            except OSError:
                return None
        memo.save()
        return digest.hexdigest()[:32]

    def load(self, fingerprint: str) -> Index | None:
        path = self._path(fingerprint)
        try:
            with path.open("rb") as handle, collector_paused():
                index = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as exc:  # corrupt, truncated, or from other code: rebuild
            log.info("index cache unusable; rebuilding", extra={"error": str(exc)})
            return None
        return index if isinstance(index, Index) else None

    def save(self, fingerprint: str, index: Index) -> None:
        self._writer.write("index", functools.partial(self._write, self._path(fingerprint), index))

    def _write(self, path: Path, index: Index) -> None:
        try:
            dump_atomically(path, index)
            for old in self._directory.glob("index-*.pickle"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only data dir costs start-up time, not answers
            log.info("cannot cache the index", extra={"error": str(exc)})

    def _path(self, fingerprint: str) -> Path:
        return self._directory / f"index-{fingerprint}.pickle"


def inputs_from(settings: Settings, writer: CacheWriter | None = None) -> dict[str, Any]:
    """What an index is built from, as the settings say: the keyword arguments of both
    :class:`IndexBuild` and :class:`~bot.search.live.LiveIndex`. ``writer``: when the
    caches are written (default: as soon as they are made)."""
    writer = writer or CacheWriter()
    return {
        "directories": settings.corpus_dirs,
        "aliases": settings.aliases,
        "cues": settings.cues,
        "embedder": embedder_for(settings.semantic),
        "parse_cache": ParseCache(settings.parse_cache_dir, writer),
        "index_cache": IndexCache(settings.index_cache_dir, writer),
    }


class IndexBuild:
    """The index, loaded when nothing it is built from changed, else built (parsing only
    files the parse cache has not seen) and stored; no playbooks at all raises
    :class:`~bot.corpus.NoPlaybooksError`. In two steps, for a caller with other work to do
    meanwhile: creating it names the index and loads it from the cache, or else starts the
    corpus load (the parse workers take the first batches at once); :meth:`result` finishes
    and says whether the index came from the cache. `serve` imports its Slack side in
    between. Call :meth:`result` or :meth:`close`."""

    def __init__(
        self,
        directories: Sequence[Path],
        aliases: Mapping[str, Sequence[str]] | None,
        cues: Mapping[str, Sequence[str]] | None,
        embedder: Embedder | None,
        parse_cache: ParseCache,
        index_cache: IndexCache | None,
    ) -> None:
        self._started = time.perf_counter()
        self._aliases, self._cues, self._embedder = aliases, cues, embedder
        self._parse_cache, self._index_cache = parse_cache, index_cache
        self._fingerprint = None
        if index_cache is not None and embedder is None:
            self._fingerprint = index_cache.fingerprint(directories, aliases, cues)
        self._index = None
        if index_cache is not None and self._fingerprint is not None:
            self._index = index_cache.load(self._fingerprint)
        self._cached = self._index is not None
        self._loading = None
        if self._index is None:
            with collector_paused():
                self._loading = CorpusLoad(directories, cache=parse_cache)

    def result(self) -> tuple[Index, bool]:
        index, cached = self._index, self._cached
        if index is None:
            assert self._loading is not None
            with self._loading as loading, collector_paused():
                load_english()  # read once per process: here while the workers still parse
                corpus = require_playbooks(loading.corpus())
                index = Index(corpus, self._aliases, self._cues, self._embedder)
            if self._index_cache is not None and self._fingerprint is not None:
                self._index_cache.save(self._fingerprint, index)
            self._index = index
        log.info(
            "index loaded from the cache" if cached else "index built",
            extra={
                "playbooks": len(index.corpus.playbooks),
                "sections": len(index.corpus.sections),
                "parsed": self._parse_cache.misses,
                "seconds": round(time.perf_counter() - self._started, 3),
            },
        )
        return index, cached

    def close(self) -> None:
        """Stop the parse workers of a build that will not be finished."""
        if self._loading is not None:
            self._loading.close()


@functools.cache
def code_fingerprint() -> str:
    """The search and corpus code's source and the stored libraries' versions."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for module in sorted([*here.glob("*.py"), *(here.parent / "corpus").glob("*.py")]):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    for library in LIBRARIES:
        try:
            digest.update(f"{library}={importlib.metadata.version(library)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{library}=none".encode())
    return digest.hexdigest()
