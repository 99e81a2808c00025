"""The corpus as immutable data: what search, rendering and the digest read.

Parsing rules live in the sibling modules; these dataclasses only say what a playbook *is*, so
every consumer sees one shape whatever the source file looked like.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]
ItemKind = Literal["bullet", "paragraph", "topic", "subsection", "block"]


class _Record:
    """Pickled as a call of the class with its fields. The caches (parsed files, the built
    index) are mostly these objects, and dataclasses' own pickling of a frozen slots class
    sets each field through a Python loop: unpickling through ``__init__`` takes half the
    time (0.27 s against 0.51 s for 1,000 playbooks)."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), _field_values(type(self))(self)


@functools.cache
def _field_values(cls: type) -> Callable[[object], tuple[Any, ...]]:
    """The fields ``__init__`` takes (not what a record works out and keeps for itself)."""
    names = [f.name for f in fields(cls) if f.init]  # type: ignore[arg-type]
    return operator.attrgetter(*names)


@dataclass(frozen=True, slots=True)
class Problem(_Record):
    """One thing wrong with a corpus file, printable as ``path:line: severity: message``."""

    path: Path
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Link(_Record):
    text: str
    url: str
    line: int


@dataclass(frozen=True, slots=True)
class Author(_Record):
    name: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Item(_Record):
    """A unit small enough to quote: a bullet with its children, a paragraph, a ``###``
    sub-section, or a *topic* (a short standalone lead line plus the paragraphs under it).

    Its Markdown and text are spans of its section's, which it shares (one string each per
    section, not one per item: at 10,000 playbooks the copies were 100 MB of every process
    and 0.7 s of loading a cached index)."""

    kind: ItemKind
    title: str | None
    slug: str
    line: int
    links: tuple[Link, ...]
    section_markdown: str = field(repr=False)
    section_text: str = field(repr=False)
    spans: tuple[int, int, int, int] = field(repr=False)  # Markdown start, end; text start, end

    @property
    def markdown(self) -> str:
        return self.section_markdown[self.spans[0] : self.spans[1]]

    @property
    def text(self) -> str:
        """Plain text: link text kept, markup dropped."""
        return self.section_text[self.spans[2] : self.spans[3]]


# A link as a plain tuple: text, url, line (see Link).
LinkRow = tuple[str, str, int]
# What an item is, as a plain tuple: kind, title, slug, line, links, spans (see Item).
ItemRow = tuple[ItemKind, str | None, str, int, tuple[LinkRow, ...], tuple[int, int, int, int]]


@dataclass(frozen=True, slots=True)
class Section(_Record):
    """A ``##`` section of one playbook.

    Its items and links are kept as plain tuples (``item_rows``, ``link_rows``) and made
    :class:`Item` and :class:`Link` objects at first use: a cached index holds 190,000 items
    and 125,000 links at 10,000 playbooks, and building them as objects when it was loaded
    (and calling Python for each when it was stored) was most of a warm start, when a
    question reads a handful."""

    playbook_title: str
    playbook_slug: str
    heading: str
    slug: str
    markdown: str
    text: str
    item_rows: tuple[ItemRow, ...]
    link_rows: tuple[LinkRow, ...]
    path: Path
    line: int
    url: str | None = None
    _items: tuple[Item, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _links: tuple[Link, ...] | None = field(default=None, init=False, repr=False, compare=False)

    # two threads may both build the objects: equal, and either set is kept

    @property
    def items(self) -> tuple[Item, ...]:
        items = self._items
        if items is None:
            markdown, text = self.markdown, self.text
            items = tuple(
                Item(kind, title, slug, line, _links(links), markdown, text, spans)
                for kind, title, slug, line, links, spans in self.item_rows
            )
            object.__setattr__(self, "_items", items)
        return items

    @property
    def links(self) -> tuple[Link, ...]:
        links = self._links
        if links is None:
            links = _links(self.link_rows)
            object.__setattr__(self, "_links", links)
        return links

    @property
    def key(self) -> str:
        """Stable identifier, e.g. ``regional-innovation-hubs#potential-pitfalls``."""
        return f"{self.playbook_slug}#{self.slug}"

    @property
    def has_substructure(self) -> bool:
        """True when the items are bullets, sub-sections or lead-line topics rather than a
        run of plain paragraphs (which together form one passage)."""
        return any(item.kind in ("bullet", "subsection", "topic") for item in self.items)


def _links(rows: tuple[LinkRow, ...]) -> tuple[Link, ...]:
    return tuple(Link(text, url, line) for text, url, line in rows)


@dataclass(frozen=True, slots=True)
class Playbook(_Record):
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
    directories: tuple[Path, ...] = ()

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
