"""A search index that follows the corpus on disk: reload on demand, on SIGHUP, or on change.

Readers call :meth:`LiveIndex.search` exactly as on an :class:`~bot.search.Index`. A reload
builds a complete new index off to the side and swaps one reference, so a request in flight
finishes on the index it started with and none is dropped. A broken edit keeps the last good
version of that file (logged with ``file:line``); a reload that would leave no playbooks at all
(a directory unmounted, every file deleted) keeps the whole previous corpus.

Answers are remembered per index (:class:`_Serving`): a question asked again — the same
``/hubs pitfalls`` from another person, or the "Next match" button, which searches the
question again for one result more — costs a dictionary lookup. A search is a pure function
of the index and its arguments and its response is immutable, so sharing one is safe; the
memory goes with the index it belongs to when a reload swaps it.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.bulk import collector_paused, release_free_heap
from bot.corpus import Corpus, load_corpus, log_problems
from bot.corpus.cache import ParseCache
from bot.search import Index, SearchResponse
from bot.search.index_cache import IndexBuild, IndexCache
from bot.search.semantic import Embedder

log = logging.getLogger(__name__)

REMEMBERED_ANSWERS = 1024  # 0.7-0.8 MB of responses (measured on 1 and 1,000 playbooks)


@dataclass(frozen=True, slots=True)
class ReloadReport:
    playbooks: int
    sections: int
    errors: int
    seconds: float


class _Serving:
    """An index and the answers it has given: swapped as one reference, so no request can
    get an answer remembered from another index."""

    __slots__ = ("index", "search")

    def __init__(self, index: Index) -> None:
        self.index = index
        self.search: Callable[[str, int, str], SearchResponse] = functools.lru_cache(
            maxsize=REMEMBERED_ANSWERS
        )(index.search)


class LiveIndex:
    def __init__(
        self,
        directories: Sequence[Path],
        aliases: Mapping[str, Sequence[str]] | None = None,
        cues: Mapping[str, Sequence[str]] | None = None,
        embedder: Embedder | None = None,
        parse_cache: ParseCache | None = None,
        index_cache: IndexCache | None = None,
        build: IndexBuild | None = None,
    ) -> None:
        """``parse_cache``: parsed files by their bytes, so a reload parses only what changed;
        ``index_cache``: the built index on disk, for a start with nothing changed;
        ``build``: the first index, already under way from these same inputs."""
        self.directories = tuple(directories)
        self._cache = parse_cache or ParseCache()
        self._aliases = aliases
        self._cues = cues
        self._embedder = embedder
        self._reload_lock = threading.Lock()
        if build is None:
            build = IndexBuild(self.directories, aliases, cues, embedder, self._cache, index_cache)
        index, _cached = build.result()
        self._serving = _Serving(index)
        log_problems(index.corpus)

    @property
    def index(self) -> Index:
        return self._serving.index

    @property
    def corpus(self) -> Corpus:
        return self._serving.index.corpus

    def search(self, query: str, limit: int = 3, context: str = "") -> SearchResponse:
        """:meth:`Index.search`, remembered: spacing aside, the same arguments give the very
        same response."""
        return self._serving.search(" ".join(query.split()), limit, context)

    def reload(self) -> ReloadReport:
        """Re-read the corpus and swap in a new index (one reload at a time)."""
        with self._reload_lock:
            started = time.perf_counter()
            with collector_paused():
                loaded = load_corpus(self.directories, self.corpus, self._cache)
                fresh = (
                    Index(loaded, self._aliases, self._cues, self._embedder)
                    if loaded.playbooks
                    else None
                )
            log_problems(loaded)
            if fresh is not None:
                self._serving = _Serving(fresh)
            else:
                log.error(
                    "reload found no playbooks; still serving the previous corpus",
                    extra={"directories": ",".join(map(str, self.directories))},
                )
            served = self.corpus
            report = ReloadReport(
                len(served.playbooks),
                len(served.sections),
                len(loaded.errors),
                round(time.perf_counter() - started, 3),
            )
            # the previous index is garbage now (unless a request still reads it): hand its
            # memory back (at 1,000 playbooks a worker held 166 MB after a reload, 120 after)
            release_free_heap()
        log.info(
            "corpus reloaded",
            extra={
                "playbooks": report.playbooks,
                "sections": report.sections,
                "errors": report.errors,
                "seconds": report.seconds,
            },
        )
        return report

    def watch(self, stop: threading.Event, debounce_ms: int = 500) -> threading.Thread:
        """Reload whenever a ``.md`` file under the corpus directories changes, in a daemon
        thread that ends when ``stop`` is set."""
        from watchfiles import watch

        def run() -> None:
            existing = [d for d in self.directories if d.is_dir()]
            for changes in watch(
                *existing,
                watch_filter=lambda _change, path: path.endswith(".md"),
                debounce=debounce_ms,
                stop_event=stop,
                raise_interrupt=False,
            ):
                log.info("corpus changed", extra={"files": len(changes)})
                try:
                    self.reload()
                except Exception:  # a bug in a reload must not stop the watcher
                    log.exception("corpus reload failed; still serving the previous index")

        thread = threading.Thread(target=run, name="corpus-watch", daemon=True)
        thread.start()
        return thread
