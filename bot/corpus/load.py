"""From files on disk to a :class:`Corpus`: one file's failure is that file's problem.

Each file goes through bounded steps (size, encoding, front matter, the parser's events under
an element and nesting budget, structure); anything that goes wrong becomes
``path:line: message`` and the rest of the corpus loads. A reload passes the corpus it
replaces, so a file broken mid-edit keeps serving its last good version.
"""

from __future__ import annotations

import logging
import operator
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from bot.corpus import front_matter
from bot.corpus.cache import ParseCache
from bot.corpus.front_matter import FrontMatterError
from bot.corpus.markdown import (
    ParseCostError,
    SectionContext,
    SectionParser,
    first_h1,
    parse_document,
    slugify,
)
from bot.corpus.model import Corpus, Playbook, Problem, Severity
from bot.corpus.parallel import BATCH_FILES, ParallelParser, Parsed, Parsing

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
BATCHES_AHEAD = 2
MAX_PROBLEMS_PER_FILE = 50


class _SkipFileError(Exception):
    """This file cannot serve; its problem is already recorded."""


class _FileLoader:
    """Reads one file into a playbook, collecting its problems."""

    def __init__(self, path: Path, raw: bytes | None = None) -> None:
        self.path = path
        self.raw = raw
        self.problems: list[Problem] = []
        self._dropped = 0

    def report(self, line: int, message: str, severity: Severity = "error") -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_FILE:
            self.problems.append(Problem(self.path, line, message, severity))
        else:
            self._dropped += 1

    def skip(self, line: int, message: str) -> _SkipFileError:
        self.report(line, message)
        return _SkipFileError()

    def finish(self) -> list[Problem]:
        if self._dropped:
            self.problems.append(
                Problem(self.path, 1, f"{self._dropped:,} more problems in this file not listed")
            )
        return self.problems

    def load(self) -> Playbook:
        text = self._read_text()
        try:
            fm = front_matter.split(text)
        except FrontMatterError as exc:
            raise self.skip(exc.line, exc.message) from None
        try:
            return self._playbook(fm)
        except ParseCostError as exc:  # read as the events go by: at any point of the body
            raise self.skip(fm.body_offset + 1 + exc.line, str(exc)) from None

    def _playbook(self, fm: front_matter.FrontMatter) -> Playbook:
        document = parse_document(fm.body)
        title = front_matter.text_field(fm, "title") or first_h1(document)
        slug = slugify(self.path.stem) or slugify(title) or "playbook"
        url = front_matter.url_field(fm)
        fields = {
            "oneliner": front_matter.text_field(fm, "oneliner"),
            "authors": front_matter.authors_field(fm),
            **{key: front_matter.list_field(fm, key) for key in ("stage", "domain", "type")},
            "aliases": front_matter.list_field(fm, "aliases"),
        }
        for line, message, severity in fm.warnings:
            self.report(line, message, severity)
        if not title:
            raise self.skip(1, "missing title (front matter `title:` or a `# Heading`)")
        context = SectionContext(title, slug, url, self.path, fm.body_offset)
        sections = SectionParser(document, self.report).sections(context)
        if not sections:
            raise self.skip(fm.body_offset + 1, "no `##` sections: nothing to serve")
        return Playbook(
            title=title, slug=slug, path=self.path, sections=tuple(sections), url=url, **fields
        )

    def _read_text(self) -> str:
        size = self.path.stat().st_size if self.raw is None else len(self.raw)
        if size > MAX_FILE_BYTES:
            raise self.skip(1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        raw = self.path.read_bytes() if self.raw is None else self.raw
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise self.skip(line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None
        if "\x00" in text:
            raise self.skip(text[: text.index("\x00")].count("\n") + 1, "NUL byte: not a text file")
        return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_playbook(path: Path, raw: bytes | None = None) -> tuple[Playbook | None, list[Problem]]:
    """Parse one file (from ``raw`` when its bytes were read already); returns (playbook or
    None when it cannot serve, problems found). Never raises: an unexpected failure is
    reported against the file (and logged with its traceback, since it is a bug to fix here,
    not in the file)."""
    loader = _FileLoader(path, raw)
    playbook: Playbook | None = None
    try:
        playbook = loader.load()
    except _SkipFileError:
        pass  # its problem is recorded
    except OSError as exc:
        loader.report(1, f"cannot read: {exc.strerror or exc}")
    except (RecursionError, MemoryError):
        loader.report(1, "too deeply nested or too large to parse (file skipped)")
    except Exception as exc:
        log.debug("unexpected failure parsing %s", path, exc_info=True)
        loader.report(1, f"cannot be parsed: {type(exc).__name__}: {exc} (file skipped)")
    return playbook, loader.finish()


def iter_corpus_files(locations: Sequence[Path]) -> Iterator[Path]:
    """Every ``*.md`` below the directories (hidden ones skipped), sorted; a ``.md`` file
    named directly is taken as it is."""
    for location in locations:
        if location.is_file():
            yield location
            continue
        # sorted as paths sort (by their parts), with tuples compared in C
        yield from sorted(map(Path, _markdown_below(location)), key=operator.attrgetter("parts"))


def _markdown_below(directory: Path) -> Iterator[str]:
    """The ``*.md`` files below ``directory``, hidden entries and links to directories
    skipped. Read with ``os.scandir``, whose entries know their type: ``Path.rglob`` and an
    ``is_file()`` for each were 0.20 s of naming the cached index at 10,000 playbooks."""
    pending = [os.fspath(directory)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.name.endswith(".md") and entry.is_file():  # not a dangling link
                    yield entry.path


def load_corpus(
    directories: Sequence[Path],
    previous: Corpus | None = None,
    cache: ParseCache | None = None,
    workers: int | None = None,
) -> Corpus:
    """Load every playbook below the directories; broken files are reported and skipped.

    On a reload, pass the corpus being replaced as ``previous``: a file that no longer parses
    keeps its last good version instead of vanishing mid-edit. With a ``cache``, a file whose
    bytes were parsed before is not parsed again. Files to parse are spread over ``workers``
    processes (default: one per core when there are enough of them; 1: in-process). Problems
    are returned, not logged: the caller decides whether they are lines to print or log
    records."""
    with CorpusLoad(directories, previous, cache, workers) as loading:
        return loading.corpus()


class CorpusLoad:
    """:func:`load_corpus` in two steps, for a caller with other work to do meanwhile:
    creating it lists the files and hands the first batches the cache lacks to the parse
    workers; :meth:`corpus` parses the rest and puts the corpus together. `serve` imports its
    Slack side in between (~0.4 s of one core, while the workers parse on the others). Use
    as a context manager (or :meth:`close`) so the workers stop even if :meth:`corpus` is
    never called."""

    def __init__(
        self,
        directories: Sequence[Path],
        previous: Corpus | None = None,
        cache: ParseCache | None = None,
        workers: int | None = None,
    ) -> None:
        self._directories = directories
        self._previous = previous
        self._cache = cache
        existing = _existing(directories)
        self._missing = [d for d in directories if d not in existing]
        self._paths = list(iter_corpus_files(existing))
        self._files = _FileParses(self._paths, cache, workers)

    def __enter__(self) -> CorpusLoad:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._files.close()

    def corpus(self) -> Corpus:
        problems = [Problem(d, 0, "corpus directory does not exist") for d in self._missing]
        playbooks: list[Playbook] = []
        titles: dict[str, Path] = {}
        last_good = {p.path: p for p in self._previous.playbooks} if self._previous else {}
        parsed = self._files.finish()
        for path, (playbook, found) in zip(self._paths, parsed, strict=True):
            problems.extend(found)
            if playbook is None and path in last_good:
                playbook = last_good[path]
                problems.append(
                    Problem(path, 1, "serving the last good version of this file", "warning")
                )
            if playbook is None:
                continue
            key = playbook.title.casefold()
            if key in titles:
                problems.append(
                    Problem(
                        path,
                        1,
                        f"duplicate playbook title {playbook.title!r} "
                        f"(also {titles[key]}; this file skipped)",
                        "warning",
                    )
                )
                continue
            titles[key] = path
            playbooks.append(playbook)
        if self._cache is not None:
            self._cache.retain(self._files.kept)
        return Corpus(tuple(_unique_slugs(playbooks)), tuple(problems), tuple(self._directories))


class _FileParses:
    """Each file's parse, in order: from the cache when its bytes were parsed before, the
    rest in batches on the parse workers, :data:`BATCHES_AHEAD` of them handed over at a
    time: the workers parse one while this process collects the one before and reads the
    next, and a load started early (:class:`CorpusLoad`) has that many under way while its
    caller does other work. At most that many batches' bytes are held at once. A cached
    file is keyed by the bytes read here, which are the bytes parsed (an edit between two
    reads cannot file one version under the other's key)."""

    def __init__(self, paths: Sequence[Path], cache: ParseCache | None, workers: int | None):
        self._cache = cache
        self._remaining = iter(paths)
        self._read_all = False
        self._parser = ParallelParser(parse_playbook, workers)
        self._underway: deque[tuple[list[tuple[int, str | None]], Parsing]] = deque()
        self.kept: set[str] = set()  # the cache keys of every file read
        self.parsed: list[Parsed] = []
        for _batch in range(BATCHES_AHEAD):
            if not self._read_all:
                self._hand_over_a_batch()

    def _hand_over_a_batch(self) -> None:
        """Read files until a batch of ones the cache lacks is full, or none are left, and
        hand it to the workers."""
        cache, batch = self._cache, []
        for path in self._remaining:
            raw = _bytes_to_key(path) if cache is not None else None
            key = cache.key(path, raw) if cache is not None and raw is not None else None
            found = None
            if cache is not None and key is not None:
                self.kept.add(key)
                found = cache.get(key)
            self.parsed.append(found or (None, ()))
            if found is None:
                batch.append((len(self.parsed) - 1, path, raw, key))
                if len(batch) == BATCH_FILES:
                    break
        else:
            self._read_all = True
        if batch:
            jobs = [(path, raw) for _, path, raw, _ in batch]
            where = [(position, key) for position, _, _, key in batch]
            self._underway.append((where, self._parser.start(jobs)))

    def finish(self) -> list[Parsed]:
        with self._parser:
            while self._underway:
                where, parsing = self._underway.popleft()
                for (position, key), found in zip(where, parsing.results(), strict=True):
                    self.parsed[position] = found
                    if self._cache is not None and key is not None:
                        self._cache.put(key, found)
                if not self._read_all:
                    self._hand_over_a_batch()
        return self.parsed

    def close(self) -> None:
        self._parser.close()


def _bytes_to_key(path: Path) -> bytes | None:
    """The bytes a cache key is made of; None when the file is too large or unreadable (its
    parse reports that, uncached)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _existing(directories: Sequence[Path]) -> list[Path]:
    return [d for d in directories if d.is_dir() or (d.is_file() and d.suffix == ".md")]


def check_playbooks(directories: Sequence[Path]) -> None:
    """:class:`NoPlaybooksError` unless some file below ``directories`` is a playbook. Stops
    at the first one that parses: a process about to load the corpus anyway (serve's workers,
    the clock's first tick) need not parse all of it twice to learn it is not empty."""
    for path in iter_corpus_files(_existing(directories)):
        if parse_playbook(path)[0] is not None:
            return
    require_playbooks(load_corpus(directories))  # nothing loads: the full reasons, per directory


class NoPlaybooksError(Exception):
    """Nothing loaded: serving would answer "no match" to everything, so refuse instead."""


def require_playbooks(corpus: Corpus) -> Corpus:
    """The corpus itself, or :class:`NoPlaybooksError` with one line naming the directories tried,
    what was wrong with each, and how to point at others."""
    if corpus.playbooks:
        return corpus
    reasons = []
    for directory in corpus.directories:
        files = list(iter_corpus_files([directory])) if directory.exists() else []
        if not directory.exists():
            why = "does not exist"
            if "," in str(directory) and os.pathsep != ",":
                why += f" (separate directories with {os.pathsep!r}, not ',')"
        elif not files:
            why = "has no .md files"
        else:
            why = f"{len(files)} file(s), none usable (`hubs-bot check` says why)"
        reasons.append(f"{directory} {why}")
    tried = "; ".join(reasons) or "no corpus directories configured"
    raise NoPlaybooksError(
        f"no playbooks to serve: {tried}. Point at your playbooks with --corpus DIR or "
        f"HUBS_CORPUS=DIR{os.pathsep}DIR"
    )


def log_problems(corpus: Corpus) -> None:
    """For long-running processes: each problem as one structured log record."""
    for problem in corpus.problems:
        log.log(
            logging.ERROR if problem.severity == "error" else logging.WARNING,
            "corpus problem: %s",
            problem,
            extra={"path": str(problem.path), "line": problem.line},
        )


def _unique_slugs(playbooks: list[Playbook]) -> list[Playbook]:
    """Two directories may both hold ``hubs.md``; keep slugs (and thus ids) distinct."""
    seen: dict[str, int] = {}
    unique = []
    for playbook in playbooks:
        seen[playbook.slug] = seen.get(playbook.slug, 0) + 1
        if seen[playbook.slug] > 1:
            slug = f"{playbook.slug}-{seen[playbook.slug]}"
            sections = tuple(replace(s, playbook_slug=slug) for s in playbook.sections)
            playbook = replace(playbook, slug=slug, sections=sections)
        unique.append(playbook)
    return unique
