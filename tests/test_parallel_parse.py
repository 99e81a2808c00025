"""Parsing on several processes changes only how fast a corpus loads: the same playbooks in
the same order, the same problems against the same lines, the cache filled the same way, and
a pool that cannot work falls back to parsing in-process instead of failing the load."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from bot.corpus import CorpusLoad, load_corpus, parse_playbook
from bot.corpus import load as load_module
from bot.corpus.cache import ParseCache
from bot.corpus.parallel import (
    MIN_FILES_PER_SPAWNED_WORKER,
    MIN_FILES_PER_WORKER,
    ParallelParser,
    Parsed,
    _start_method,
    worker_count,
)
from tests.hostile import HOSTILE


def write_corpus(root: Path, files: int) -> Path:
    """``files`` playbooks (two of them broken) plus one file of each hostile kind."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        (root / f"p{n:03}.md").write_text(
            f"---\ntitle: Playbook {n}\n---\n\n## Potential pitfalls\n\n- pitfall number {n}\n"
            f"\n## Case study\n\nA [source](https://example.org/{n}) and a second paragraph.\n"
        )
    (root / "p005.md").write_text("---\ntitle: [unclosed\n---\n\n## S\n\n- x\n")
    (root / "p011.md").write_text("---\ntitle: No Sections\n---\n\nJust text.\n")
    for hostile in HOSTILE:
        (root / hostile.name).write_text(hostile.content)
    return root


def summary(corpus_dir: Path, **load: object) -> tuple[object, ...]:
    corpus = load_corpus([corpus_dir], **load)  # type: ignore[arg-type]
    return (
        [(p.path.name, p.title, [s.heading for s in p.sections]) for p in corpus.playbooks],
        sorted((p.path.name, p.line, p.message, p.severity) for p in corpus.problems),
    )


def test_parsing_on_workers_gives_the_corpus_parsing_in_process_gives(tmp_path: Path) -> None:
    corpus_dir = write_corpus(tmp_path / "corpus", 40)
    in_process = summary(corpus_dir, workers=1)
    assert summary(corpus_dir, workers=2) == in_process
    playbooks, problems = in_process
    served = {name for name, _, _ in playbooks}  # type: ignore[attr-defined]
    assert {f"p{n:03}.md" for n in range(40)} - served == {"p005.md", "p011.md"}
    assert ("p005.md", 3) in {(name, line) for name, line, *_ in problems}  # type: ignore[attr-defined]


def test_a_load_beside_other_threads_spawns_its_workers_and_gets_the_same_corpus(
    tmp_path: Path,
) -> None:
    """The reload path: the watcher and request threads run, so the workers are spawned."""
    corpus_dir = write_corpus(tmp_path / "corpus", 20)
    methods: list[str] = []
    found: list[tuple[object, ...]] = []

    def reload() -> None:
        methods.append(_start_method().get_start_method())
        found.append(summary(corpus_dir, workers=2))

    thread = threading.Thread(target=reload)
    thread.start()
    thread.join()
    assert methods == ["spawn"]
    assert found == [summary(corpus_dir, workers=1)]


def test_the_cache_keeps_what_the_workers_parsed(tmp_path: Path) -> None:
    corpus_dir = write_corpus(tmp_path / "corpus", 30)
    cache = ParseCache(tmp_path / "parsed")
    first = summary(corpus_dir, cache=cache, workers=2)
    assert cache.misses == len(list(corpus_dir.glob("*.md")))
    restarted = ParseCache(tmp_path / "parsed")  # a new process: the copy on disk
    assert summary(corpus_dir, cache=restarted, workers=2) == first
    assert restarted.misses == 0


def test_a_reload_of_a_few_files_stays_in_process() -> None:
    assert worker_count(3) == 1
    assert worker_count(MIN_FILES_PER_WORKER - 1) == 1
    assert worker_count(5, requested=0) == 1
    assert worker_count(5, requested=3) == 3
    cores = len(os.sched_getaffinity(0))
    assert worker_count(MIN_FILES_PER_WORKER * 100) == min(cores, 8)
    # spawned workers import the package first: they need more files to be worth it
    assert worker_count(MIN_FILES_PER_WORKER * 2, per_worker=MIN_FILES_PER_SPAWNED_WORKER) == 1


def dies_in_a_worker(path: Path, raw: bytes | None) -> Parsed:
    """A parse that kills any worker process running it (the OOM killer, a segfault)."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return parse_playbook(path, raw)


def test_workers_that_die_leave_the_load_to_finish_in_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus_dir = write_corpus(tmp_path / "corpus", 10)
    jobs = [(path, None) for path in sorted(corpus_dir.glob("p*.md"))]
    with ParallelParser(dies_in_a_worker, workers=2) as parser:
        parsed = parser.parse(jobs)
        again = parser.parse(jobs)  # the broken pool is not tried again
    assert [playbook for playbook, _ in parsed] == [parse_playbook(p)[0] for p, _ in jobs]
    assert [p for p, _ in again] == [p for p, _ in parsed]
    failures = [r for r in caplog.records if r.getMessage().startswith("parse workers failed")]
    assert len(failures) == 1


def test_a_load_started_early_hands_its_first_batches_over_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` starts the load, then imports its Slack side while the workers parse: the
    first batches are with the workers before ``CorpusLoad`` returns, the rest follow as
    results come back, and the corpus is the one ``load_corpus`` makes."""
    corpus_dir = write_corpus(tmp_path / "corpus", 40)
    monkeypatch.setattr(load_module, "BATCH_FILES", 8)
    handed: list[int] = []
    real_start = ParallelParser.start

    def recording(parser: ParallelParser, jobs: list) -> object:  # type: ignore[type-arg]
        handed.append(len(jobs))
        return real_start(parser, jobs)

    monkeypatch.setattr(ParallelParser, "start", recording)
    with CorpusLoad([corpus_dir], cache=ParseCache(), workers=2) as loading:
        assert handed == [8] * load_module.BATCHES_AHEAD  # before anything asked for them
        early = loading.corpus()
    files = len(list(corpus_dir.glob("*.md")))
    assert sum(handed) == files and max(handed) == 8
    monkeypatch.setattr(ParallelParser, "start", real_start)
    expected = load_corpus([corpus_dir], workers=1)
    assert early.playbooks == expected.playbooks
    assert [str(p) for p in early.problems] == [str(p) for p in expected.problems]


def test_a_load_never_finished_stops_its_workers(tmp_path: Path) -> None:
    corpus_dir = write_corpus(tmp_path / "corpus", 120)
    loading = CorpusLoad([corpus_dir], workers=2)
    assert multiprocessing.active_children()  # parsing
    loading.close()
    assert not multiprocessing.active_children()


def test_workers_that_die_with_batches_under_way_leave_every_batch_to_finish_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches are with the workers at a time: when they die, the second batch's jobs
    (failed or cancelled with the pool) are parsed in-process like the first's."""
    corpus_dir = write_corpus(tmp_path / "corpus", 40)
    monkeypatch.setattr(load_module, "BATCH_FILES", 8)
    monkeypatch.setattr(load_module, "parse_playbook", dies_in_a_worker)
    loaded = load_corpus([corpus_dir], workers=2)
    monkeypatch.setattr(load_module, "parse_playbook", parse_playbook)
    expected = load_corpus([corpus_dir], workers=1)
    assert loaded.playbooks == expected.playbooks
    assert [str(p) for p in loaded.problems] == [str(p) for p in expected.problems]
