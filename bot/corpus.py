"""Load playbooks (Markdown + YAML front matter) into an immutable corpus.

Everything downstream (search, rendering, the digest) reads these frozen dataclasses, so the
parsing rules live here once: front matter via python-frontmatter, structure via markdown-it-py
tokens (never regexes over Markdown), and every problem is reported as ``path:line: message``
while the rest of the corpus keeps serving.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
LEAD_LINE_MAX_CHARS = 120
ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
KNOWN_FRONT_MATTER_KEYS = frozenset(
    {"title", "oneliner", "authors", "stage", "domain", "type", "url", "aliases", "tags"}
)

Severity = Literal["error", "warning"]
ItemKind = Literal["bullet", "paragraph", "topic", "subsection", "block"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a corpus file, printable as ``path:line: severity: message``."""

    path: Path
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str
    line: int


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A unit small enough to quote: a bullet with its children, a paragraph, a ``###``
    sub-section, or a *topic* (a short standalone lead line plus the paragraphs under it)."""

    kind: ItemKind
    title: str | None
    markdown: str
    text: str
    slug: str
    line: int
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    """A ``##`` section of one playbook."""

    playbook_title: str
    playbook_slug: str
    heading: str
    slug: str
    markdown: str
    text: str
    items: tuple[Item, ...]
    links: tuple[Link, ...]
    path: Path
    line: int
    url: str | None = None

    @property
    def key(self) -> str:
        """Stable identifier, e.g. ``regional-innovation-hubs#potential-pitfalls``."""
        return f"{self.playbook_slug}#{self.slug}"

    @property
    def has_substructure(self) -> bool:
        """True when the items are bullets, sub-sections or lead-line topics rather than a
        run of plain paragraphs (which together form one passage)."""
        return any(item.kind in ("bullet", "subsection", "topic") for item in self.items)


@dataclass(frozen=True, slots=True)
class Playbook:
    title: str
    slug: str
    path: Path
    sections: tuple[Section, ...]
    oneliner: str = ""
    authors: tuple[Author, ...] = ()
    stage: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    url: str | None = None

    def section(self, heading_or_slug: str) -> Section | None:
        wanted = heading_or_slug.casefold()
        for section in self.sections:
            if wanted in (section.heading.casefold(), section.slug):
                return section
        return None


@dataclass(frozen=True, slots=True)
class Corpus:
    playbooks: tuple[Playbook, ...]
    problems: tuple[Problem, ...] = ()
    sections: tuple[Section, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(s for p in self.playbooks for s in p.sections))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def playbook(self, slug: str) -> Playbook | None:
        return next((p for p in self.playbooks if p.slug == slug), None)

    def section(self, key: str) -> Section | None:
        """Find a section by its ``playbook-slug#section-slug`` key."""
        return next((s for s in self.sections if s.key == key), None)


class CorpusFileError(Exception):
    """A file that cannot be served at all (unreadable, no title, no sections...)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


# --------------------------------------------------------------------------- helpers


def slugify(text: str) -> str:
    """GitHub-style anchor: lower-case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s-]", "", text.casefold())
    return re.sub(r"[\s_]+", "-", text).strip("-")


def _clean_scalar(value: Any) -> str:
    """Front matter written by hand carries stray trailing commas (``name: Kelvin Yu,``)."""
    return str(value).strip().rstrip(",").strip()


def _as_strings(value: Any) -> tuple[str, ...]:
    """Accept a list, a scalar, or a comma-separated string where a list is expected."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items: Iterable[Any] = value
    else:
        items = str(value).split(",")
    return tuple(s for s in (_clean_scalar(v) for v in items if v is not None) if s)


def _as_authors(value: Any) -> tuple[Author, ...]:
    if value is None:
        return ()
    raw = value if isinstance(value, (list, tuple)) else [value]
    authors = []
    for entry in raw:
        if isinstance(entry, dict):
            name = _clean_scalar(entry.get("name", ""))
            link = entry.get("link") or entry.get("url")
            if name:
                authors.append(Author(name, _clean_scalar(link) if link else None))
        elif entry is not None and _clean_scalar(entry):
            authors.append(Author(_clean_scalar(entry)))
    return tuple(authors)


def _inline_text(token: Token) -> str:
    """Plain text of an inline token: link text kept, markup dropped."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def _word_slug(text: str, words: int = 8) -> str:
    return slugify(" ".join(text.split()[:words]))


# --------------------------------------------------------------------------- parsing


_MARKDOWN = MarkdownIt("commonmark")
_BROKEN_LINK = re.compile(r"\[[^\]\n]+\]\s*\((?![^)\s]+\))")


@dataclass
class _Block:
    """A top-level block of a section, with what we extracted from its inline tokens."""

    kind: str  # paragraph | list_item | heading3 | other
    start: int  # 0-based line in the body
    end: int
    text: str
    links: list[Link]


class _FileParser:
    """Parses one file; collects problems instead of raising, except for fatal ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str, severity: Severity = "error") -> Problem:
        found = Problem(self.path, line, message, severity)
        self.problems.append(found)
        return found

    def fatal(self, line: int, message: str) -> CorpusFileError:
        return CorpusFileError(self.problem(line, message))

    # -- file level

    def parse(self) -> Playbook:
        size = self.path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise self.fatal(1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        raw = self.path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise self.fatal(line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        meta, body, body_offset = self._split_front_matter(text)
        body_lines = body.split("\n")
        tokens = _MARKDOWN.parse(body)

        title = _clean_scalar(meta.get("title") or "") or self._first_h1(tokens)
        if not title:
            raise self.fatal(1, "missing title (front matter `title:` or a `# Heading`)")
        for key in sorted(set(meta) - KNOWN_FRONT_MATTER_KEYS):
            self.problem(1, f"unknown front matter key {key!r} (ignored)", "warning")

        slug = slugify(self.path.stem) or slugify(title)
        url = _clean_scalar(meta["url"]) if meta.get("url") else None
        sections = self._sections(tokens, body_lines, body_offset, title, slug, url)
        if not sections:
            raise self.fatal(body_offset + 1, "no `##` sections: nothing to serve")
        return Playbook(
            title=title,
            slug=slug,
            path=self.path,
            sections=tuple(sections),
            oneliner=_clean_scalar(meta.get("oneliner") or ""),
            authors=_as_authors(meta.get("authors")),
            stage=_as_strings(meta.get("stage")),
            domain=_as_strings(meta.get("domain")),
            type=_as_strings(meta.get("type")),
            aliases=_as_strings(meta.get("aliases")),
            url=url,
        )

    def _split_front_matter(self, text: str) -> tuple[dict[str, Any], str, int]:
        """Returns (metadata, body, number of lines before the body)."""
        handler = frontmatter.detect_format(text, frontmatter.handlers)
        if handler is None:
            return {}, text, 0
        try:
            fm, body = handler.split(text)
        except ValueError:
            raise self.fatal(1, "front matter is not closed by a `---` line") from None
        try:
            meta = handler.load(fm)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1  # fm's line 0 is the '---' line
            reason = getattr(exc, "problem", None) or "invalid YAML"
            raise self.fatal(line, f"front matter is not valid YAML: {reason}") from None
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise self.fatal(2, "front matter must be a mapping of `key: value` lines")
        offset = text[: len(text) - len(body)].count("\n")
        return meta, body, offset

    @staticmethod
    def _first_h1(tokens: Sequence[Token]) -> str:
        for i, token in enumerate(tokens):
            if token.type == "heading_open" and token.tag == "h1":
                return _inline_text(tokens[i + 1]).strip()
        return ""

    # -- sections

    def _sections(
        self,
        tokens: Sequence[Token],
        lines: list[str],
        offset: int,
        title: str,
        playbook_slug: str,
        playbook_url: str | None,
    ) -> list[Section]:
        sections: list[Section] = []
        seen: dict[str, int] = {}
        for heading, start_line, blocks in self._split_by_h2(tokens, offset):
            line = start_line + offset + 1
            key = heading.casefold()
            if not heading:
                self.problem(line, "empty `##` heading (section skipped)")
                continue
            if key in seen:
                self.problem(
                    line,
                    f"duplicate heading {heading!r} (first at line {seen[key]}; this one skipped)",
                )
                continue
            seen[key] = line
            if not blocks:
                self.problem(line, f"empty section {heading!r} (skipped)")
                continue
            body_start, body_end = blocks[0].start, blocks[-1].end
            markdown = "\n".join(lines[body_start:body_end]).strip()
            slug = slugify(heading)
            links = tuple(link for block in blocks for link in block.links)
            sections.append(
                Section(
                    playbook_title=title,
                    playbook_slug=playbook_slug,
                    heading=heading,
                    slug=slug,
                    markdown=markdown,
                    text=" ".join(block.text for block in blocks),
                    items=tuple(_make_items(blocks, lines, offset)),
                    links=links,
                    path=self.path,
                    line=line,
                    url=f"{playbook_url}#{slug}" if playbook_url else None,
                )
            )
        return sections

    def _split_by_h2(
        self, tokens: Sequence[Token], offset: int
    ) -> Iterator[tuple[str, int, list[_Block]]]:
        heading: str | None = None
        heading_line = 0
        blocks: list[_Block] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type == "heading_open" and token.tag in ("h1", "h2"):
                if heading is not None:
                    yield heading, heading_line, blocks
                heading, blocks = None, []
                if token.tag == "h2":
                    heading = _inline_text(tokens[i + 1]).strip()
                    heading_line = token.map[0] if token.map else 0
                i += 3
                continue
            block, i = self._read_block(tokens, i, offset)
            if heading is not None and block is not None:
                blocks.append(block)
        if heading is not None:
            yield heading, heading_line, blocks

    def _read_block(
        self, tokens: Sequence[Token], i: int, offset: int
    ) -> tuple[_Block | None, int]:
        """Consume one top-level block (or one list item of a top-level list)."""
        token = tokens[i]
        if token.type in (
            "bullet_list_open",
            "ordered_list_open",
            "bullet_list_close",
            "ordered_list_close",
        ):
            return None, i + 1
        if token.map is None:
            return None, i + 1
        start, end = token.map
        kind = {
            "paragraph_open": "paragraph",
            "list_item_open": "list_item",
            "heading_open": "heading3",
        }.get(token.type, "other")
        # walk to the matching close token, collecting inline content
        depth, j = token.nesting, i + 1
        texts: list[str] = []
        links: list[Link] = []
        while depth > 0 and j < len(tokens):
            inner = tokens[j]
            depth += inner.nesting
            if inner.type == "inline":
                line = (inner.map[0] if inner.map else start) + offset + 1
                texts.append(_inline_text(inner))
                links.extend(self._links(inner, line))
            j += 1
        if token.nesting == 0:  # fence, code_block, hr, html_block
            texts.append(token.content if token.type != "hr" else "")
        text = " ".join(t.strip() for t in texts if t.strip())
        return _Block(kind, start, end, text, links), j

    def _links(self, inline: Token, line: int) -> list[Link]:
        links: list[Link] = []
        children = inline.children or []
        for k, child in enumerate(children):
            broken = _BROKEN_LINK.search(child.content) if child.type == "text" else None
            if broken:
                self.problem(line, f"malformed link {broken.group(0)!r}: expected [text](url)")
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href", "")).strip()
            text_parts = []
            for grand in children[k + 1 :]:
                if grand.type == "link_close":
                    break
                text_parts.append(grand.content)
            text = "".join(text_parts).strip()
            problem = _link_problem(href)
            if problem:
                self.problem(line, f"bad link {href!r}: {problem}")
                continue
            links.append(Link(text or href, href, line))
        return links


def _link_problem(href: str) -> str | None:
    if not href:
        return "empty URL"
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in ALLOWED_LINK_SCHEMES:
        return f"scheme {parts.scheme!r} is not allowed"
    if parts.scheme in ("http", "https") and not parts.netloc:
        return "no host"
    return None


def _is_lead_line(block: _Block, next_block: _Block | None) -> bool:
    """A standalone short line that titles the paragraphs under it (no end punctuation)."""
    return (
        block.kind == "paragraph"
        and block.end - block.start == 1
        and len(block.text) <= LEAD_LINE_MAX_CHARS
        and not block.text.rstrip().endswith((".", ":", "!", "?", ";", ","))
        and next_block is not None
        and next_block.kind == "paragraph"
    )


def _make_items(blocks: list[_Block], lines: list[str], offset: int) -> Iterator[Item]:
    """Group a section's blocks into quotable items."""
    used_slugs: dict[str, int] = {}

    def build(kind: ItemKind, title: str | None, group: list[_Block]) -> Item:
        markdown = "\n".join(lines[group[0].start : group[-1].end]).strip()
        text = " ".join(b.text for b in group)
        base = _word_slug(title or text) or kind
        used_slugs[base] = used_slugs.get(base, 0) + 1
        slug = base if used_slugs[base] == 1 else f"{base}-{used_slugs[base]}"
        links = tuple(link for b in group for link in b.links)
        return Item(kind, title, markdown, text, slug, group[0].start + offset + 1, links)

    i = 0
    while i < len(blocks):
        block = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.kind == "heading3":
            j = i + 1
            while j < len(blocks) and blocks[j].kind != "heading3":
                j += 1
            group = blocks[i:j]
            item = build("subsection", block.text, group)
            # the title is the heading; the body text follows it
            yield Item(
                item.kind, block.text, item.markdown, item.text, item.slug, item.line, item.links
            )
            i = j
        elif _is_lead_line(block, nxt):
            j = i + 1
            while (
                j < len(blocks)
                and blocks[j].kind in ("paragraph", "other")
                and not (_is_lead_line(blocks[j], blocks[j + 1] if j + 1 < len(blocks) else None))
            ):
                j += 1
            yield build("topic", block.text, blocks[i:j])
            i = j
        elif block.kind == "list_item":
            yield build("bullet", None, [block])
            i += 1
        else:
            yield build("paragraph" if block.kind == "paragraph" else "block", None, [block])
            i += 1


# --------------------------------------------------------------------------- loading


def iter_corpus_files(locations: Sequence[Path]) -> Iterator[Path]:
    """Every ``*.md`` below the directories (hidden ones skipped), sorted; a ``.md`` file
    named directly is taken as it is."""
    for location in locations:
        if location.is_file():
            yield location
            continue
        for path in sorted(location.rglob("*.md")):
            relative = path.relative_to(location).parts
            if path.is_file() and not any(part.startswith(".") for part in relative):
                yield path


def parse_playbook(path: Path) -> tuple[Playbook | None, list[Problem]]:
    """Parse one file; returns (playbook or None when it cannot serve, problems found)."""
    parser = _FileParser(path)
    try:
        return parser.parse(), parser.problems
    except CorpusFileError:
        return None, parser.problems
    except OSError as exc:
        return None, [*parser.problems, Problem(path, 1, f"cannot read: {exc.strerror}")]


def load_corpus(directories: Sequence[Path], previous: Corpus | None = None) -> Corpus:
    """Load every playbook below the directories; broken files are logged and skipped.

    On a reload, pass the corpus being replaced as ``previous``: a file that no longer parses
    keeps its last good version instead of vanishing mid-edit."""
    playbooks: list[Playbook] = []
    problems: list[Problem] = []
    titles: dict[str, Path] = {}
    last_good = {p.path: p for p in previous.playbooks} if previous else {}
    existing = [d for d in directories if d.is_dir() or (d.is_file() and d.suffix == ".md")]
    for missing in sorted(set(directories) - set(existing)):
        problems.append(Problem(missing, 0, "corpus directory does not exist"))
    for path in iter_corpus_files(existing):
        playbook, found = parse_playbook(path)
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
    playbooks = _unique_slugs(playbooks)
    for problem in problems:
        (log.error if problem.severity == "error" else log.warning)(
            "corpus problem: %s", problem, extra={"path": str(problem.path), "line": problem.line}
        )
    return Corpus(tuple(playbooks), tuple(problems))


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
