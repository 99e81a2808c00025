"""The corpus as immutable data: what search, rendering and the digest read.

Parsing rules live in the sibling modules; these dataclasses only say what a playbook *is*, so
every consumer sees one shape whatever the source file looked like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
