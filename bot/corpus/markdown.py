"""Markdown structure: ``##`` sections and the quotable items inside them, from the events of
a CommonMark pull parser (pyromark, pulldown-cmark's Python binding; never regexes over
Markdown).

The rules a playbook follows are the seed's: ``##`` headings are sections; inside one, each
top-level bullet, ``###`` sub-section, paragraph, or short lead line with its paragraphs is an
item that can be quoted on its own.

Why pyromark: parsing was most of a first start. markdown-it-py took ~2.8 ms for a typical
6 KB playbook, pulldown-cmark takes ~0.12 ms, and stays linear on the hostile inputs
(deep nesting, runs of ``[``) that the corpus fuzz tests feed it.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, islice
from typing import Any

import pyromark

from bot.corpus.front_matter import PLAIN_WEB_URL
from bot.corpus.lint import link_problem, text_link_problem, text_links
from bot.corpus.model import ItemKind, ItemRow, LinkRow, Section, Severity

LEAD_LINE_MAX_CHARS = 120
# A parse is bounded by its elements (parser events, plus each ``](`` the link lint examines),
# not its bytes: 1 MB of playbook prose makes 20,000-40,000, and 100,000 of the worst kind
# (thousands of list items, one-letter lines, inline HTML) take 0.2-0.6 s.
MAX_EVENTS = 100_000
# Playbooks nest lists and quotes a few levels; past this a file is refused, so nothing that
# walks a section's Markdown (the mrkdwn renderer recurses) meets thousands of levels.
MAX_NESTING = 32
MAX_SLUG_CHARS = 120  # a section key rides in button values (Slack: 2,000 characters)
# Inline tags: their start or end is inside a run of inline text (any other tag is a block
# inside the block, and ends the run: "- a" then a nested "- b" are two runs, "a b").
_INLINE_TAGS = frozenset({"Emphasis", "Strong", "Strikethrough", "Link", "Image"})
_VERBATIM_TAGS = frozenset({"CodeBlock", "HtmlBlock"})
_SECTION_LEVELS = frozenset({"H1", "H2"})
_TEXT_KEYS = frozenset({"Text", "Code", "InlineHtml"})  # the leaves that are inline text

Report = Callable[[int, str, Severity], None]
Event = Any  # pyromark's: a str ("SoftBreak", "Rule") or a one-key dict ({"Text": "…"})


def normalize_link(url: str) -> str:
    """A link destination as a browser needs it: percent-encoded, the host punycoded
    (markdown-it's normalizeLink, the reference for CommonMark's own renderer). Skipped where
    it would change nothing: nearly every link is already plain, and markdown-it is imported
    only for the rare one that is not."""
    if PLAIN_WEB_URL.fullmatch(url):  # what normalizeLink gives back unchanged
        return url
    from markdown_it.common.normalize_url import normalizeLink

    return normalizeLink(url)


def slugify(text: str) -> str:
    """GitHub-style anchor: lower-case, punctuation dropped, spaces to hyphens."""
    if not text.isascii():  # ASCII has nothing to decompose (most headings and items)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SLUG_GAPS.sub("-", _SLUG_DROPPED.sub("", text.casefold())).strip("-")


_SLUG_DROPPED = re.compile(r"[^\w\s-]")
_SLUG_GAPS = re.compile(r"[\s_]+")


@dataclass(frozen=True, slots=True)
class Document:
    """A body to parse, and where each of its lines starts (the parser's spans are UTF-8
    byte offsets; a span's line is what a problem is reported at)."""

    body: str
    line_starts: list[int]
    budget: int  # events allowed: MAX_EVENTS less the ``](`` the link lint will examine

    def line(self, offset: int) -> int:
        """0-based line of a byte offset."""
        return bisect.bisect_right(self.line_starts, offset) - 1

    def events(self) -> Iterator[tuple[Event, dict[str, int]]]:
        """The parser's events, each with its span, produced as they are read (a file is
        never held as a list of events: 100,000 of them were 70 MB); raises
        :class:`ParseCostError` past the budget."""
        events = pyromark.events_with_range(self.body, merge_text=True)
        yield from islice(events, self.budget)
        if next(events, None) is not None:
            raise ParseCostError(self._cost_message())

    def _cost_message(self) -> str:
        """Name what the file is made of, so its author sees why (e.g. 52,000 list items)."""
        events = islice(pyromark.events_with_range(self.body, merge_text=True), self.budget)
        kinds = Counter(
            event if event.__class__ is str else tag_name(event.get("Start", event))
            for event, _span in events
            if event.__class__ is str or "End" not in event
        )
        kinds["]("] = MAX_EVENTS - self.budget
        return _too_costly(kinds)


class ParseCostError(ValueError):
    """The body has more Markdown elements, or deeper nesting, than a playbook could need."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line  # 0-based, in the body


def parse_document(body: str) -> Document:
    """``body`` ready to parse; :class:`ParseCostError` at once when its ``](`` alone are over
    :data:`MAX_EVENTS`, else while its events are read."""
    brackets = body.count("](")
    if brackets > MAX_EVENTS:
        raise ParseCostError(_too_costly(Counter({"](": brackets})))
    budget = MAX_EVENTS - brackets
    data = body.encode()
    starts = list(accumulate((len(line) + 1 for line in data.split(b"\n")), initial=0))
    return Document(body, starts, budget)


def _too_costly(kinds: Counter[str]) -> str:
    """The refusal, naming the two kinds of element the file has most of."""
    common = ", ".join(
        f"{count:,} {_PLURAL.get(kind, kind)}"
        for kind, count in kinds.most_common(2)
        if count >= 1000  # of over 100,000, the commonest kind always is
    )
    return (
        f"Markdown too costly to parse safely (over {MAX_EVENTS:,} elements: {common}, …); "
        "file skipped"
    )


_PLURAL = {
    "Item": "list items",
    "List": "lists",
    "BlockQuote": "block quotes",
    "Paragraph": "paragraphs",
    "Text": "runs of text",
    "SoftBreak": "line breaks",
    "HardBreak": "hard line breaks",
    "Link": "links",
    "Code": "code spans",
    "InlineHtml": "inline HTML tags",
    "Emphasis": "emphases",
    "Strong": "bold runs",
    "Heading": "headings",
    "Rule": "horizontal rules",
    "](": "`](` link brackets",
}


def tag_name(tag: Event) -> str:
    """A start or end tag's name: ``"Paragraph"`` for ``"Paragraph"``, ``"Heading"`` for
    ``{"Heading": {...}}``."""
    return tag if tag.__class__ is str else next(iter(tag))


def _level(tag: Event) -> str:
    """A heading's level: ``"H2"`` from a start tag's attributes or an end tag's value."""
    value = tag["Heading"]
    return value if value.__class__ is str else value["level"]


def first_h1(document: Document) -> str:
    """The text of the first ``#`` heading anywhere, or ""."""
    inside, parts = False, []
    for event, _span in document.events():
        if event.__class__ is str:
            if inside and event in ("SoftBreak", "HardBreak"):
                parts.append(" ")
        elif (tag := event.get("Start")) is not None:
            inside = inside or (tag_name(tag) == "Heading" and _level(tag) == "H1")
        elif (tag := event.get("End")) is not None:
            if inside and tag_name(tag) == "Heading":
                return "".join(parts).strip()
        elif inside:
            parts.extend(value for key, value in event.items() if key in _TEXT_KEYS)
    return ""


@dataclass
class _Block:
    """A top-level block of a section, with what was extracted from its inline text."""

    kind: str  # paragraph | list_item | heading3 | other
    start: int  # 0-based line in the body
    end: int
    text: str
    links: list[LinkRow]


@dataclass(frozen=True, slots=True)
class _Heading:
    """A top-level ``#`` or ``##`` heading: where sections begin and end."""

    level: str  # H1 | H2
    text: str
    line: int  # 0-based, in the body


@dataclass
class _BlockText:
    """What one top-level block is collecting while its events go by."""

    kind: str
    start: int
    depth: int  # the nesting depth its own end event closes
    verbatim: bool  # a code or HTML block: its text is its content
    pieces: list[str] = field(default_factory=list)  # one per run of inline text
    run: list[str] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    label: list[str] | None = None  # the text of the link being read
    href: str = ""
    link_line: int = 0
    nested_verbatim: int = 0  # inside a code/HTML block nested in this one: not text

    def end_run(self) -> None:
        if self.run:
            self.pieces.append("".join(self.run))
            self.run = []

    def text(self) -> str:
        self.end_run()
        return " ".join(stripped for piece in self.pieces if (stripped := piece.strip()))


class _BlockReader:
    """Walks a document's events once, yielding its top-level ``#``/``##`` headings and every
    other top-level block (each item of a top-level list on its own), with the block's plain
    text (link text kept, markup dropped) and links; bad links are reported on their line."""

    def __init__(self, document: Document, offset: int, report: Report) -> None:
        self.document = document
        self.offset = offset
        self.report = report

    def units(self) -> Iterator[_Heading | _Block]:
        line = self.document.line
        depth = 0
        top_list = False
        block: _BlockText | None = None
        heading: list[str] | None = None
        heading_line = 0
        for event, span in self.document.events():
            if event.__class__ is str:  # SoftBreak, HardBreak, Rule
                if depth == 0:
                    start = line(span["start"])
                    yield _Block("other", start, line(span["end"] - 1) + 1, "", [])
                elif event in ("SoftBreak", "HardBreak"):
                    if heading is not None:
                        heading.append(" ")
                    elif block is not None and not block.nested_verbatim:
                        block.run.append(" ")
                        if block.label is not None:
                            block.label.append(" ")
                continue
            if (tag := event.get("Start")) is not None:
                name = tag_name(tag)
                if depth == 0 and name == "Heading" and _level(tag) in _SECTION_LEVELS:
                    heading, heading_line = [], line(span["start"])
                elif depth == 0 and name == "List":
                    top_list = True
                elif depth == 0 or (depth == 1 and top_list and name == "Item"):
                    kind = _BLOCK_KINDS.get(name, "other")
                    block = _BlockText(kind, line(span["start"]), depth, name in _VERBATIM_TAGS)
                elif block is not None:
                    self._start(block, name, tag, span)
                depth += 1
                if depth > MAX_NESTING:
                    raise ParseCostError(
                        f"Markdown nested over {MAX_NESTING} levels deep (lists, quotes); "
                        "file skipped",
                        line(span["start"]),
                    )
                continue
            if (tag := event.get("End")) is not None:
                depth -= 1
                if heading is not None and depth == 0:
                    yield _Heading(_level(tag), "".join(heading).strip(), heading_line)
                    heading = None
                elif block is not None and depth == block.depth:
                    end = line(span["end"] - 1) + 1
                    yield _Block(block.kind, block.start, end, block.text(), block.links)
                    block = None
                elif depth == 0:
                    top_list = False
                elif block is not None:
                    self._end(block, tag_name(tag))
                continue
            if heading is not None:
                heading.extend(value for key, value in event.items() if key in _TEXT_KEYS)
            elif block is not None:
                self._leaf(block, event, span)

    def _start(self, block: _BlockText, name: str, tag: Event, span: dict[str, int]) -> None:
        if name == "Link":
            block.label = []
            block.href = normalize_link(tag["Link"]["dest_url"].strip())
            block.link_line = self.document.line(span["start"]) + self.offset + 1
        elif name not in _INLINE_TAGS:
            block.end_run()
            block.nested_verbatim += name in _VERBATIM_TAGS

    def _end(self, block: _BlockText, name: str) -> None:
        if name == "Link" and block.label is not None:
            text = "".join(block.label).strip()
            href, block.label = block.href, None
            if problem := link_problem(href):
                self.report(block.link_line, f"bad link {href[:60]!r}: {problem}", "error")
            else:
                block.links.append((text or href, href, block.link_line))
        elif name not in _INLINE_TAGS:
            block.end_run()
            block.nested_verbatim -= name in _VERBATIM_TAGS

    def _leaf(self, block: _BlockText, event: Event, span: dict[str, int]) -> None:
        for key, value in event.items():
            if block.verbatim:
                if not block.nested_verbatim and key in ("Text", "Html"):
                    block.run.append(value)
                continue
            if block.nested_verbatim or key not in _TEXT_KEYS:
                continue
            block.run.append(value)
            if block.label is not None:
                block.label.append(value)
            if key == "Text" and "](" in value:
                for found in text_links(value):
                    if problem := text_link_problem(found):
                        line = self.document.line(span["start"]) + self.offset + 1
                        self.report(line, problem, "error")


_BLOCK_KINDS = {"Paragraph": "paragraph", "Item": "list_item", "Heading": "heading3"}


@dataclass(frozen=True)
class SectionContext:
    """What every section of one file shares."""

    title: str
    playbook_slug: str
    playbook_url: str | None
    path: object  # pathlib.Path; kept loose so this module needs no filesystem
    offset: int  # lines before the body


class SectionParser:
    """Turns one body's document into sections, reporting problems through ``report``."""

    def __init__(self, document: Document, report: Report) -> None:
        self.document = document
        self.lines = document.body.split("\n")
        self.report = report

    def sections(self, ctx: SectionContext) -> list[Section]:
        sections: list[Section] = []
        headings: dict[str, int] = {}  # casefolded heading -> line
        slugs: dict[str, tuple[str, int]] = {}  # slug -> (heading, line)
        for heading, start_line, blocks in self._split_by_h2(ctx.offset):
            line = start_line + ctx.offset + 1
            if not heading:
                self.report(line, "empty `##` heading (section skipped)", "error")
                continue
            key = heading.casefold()
            if key in headings:
                self.report(
                    line,
                    f"duplicate heading {heading!r} (first at line {headings[key]}; "
                    "this one skipped)",
                    "error",
                )
                continue
            headings[key] = line
            if not blocks:
                self.report(line, f"empty section {heading!r} (skipped)", "error")
                continue
            slug = self._unique_slug(heading, line, slugs)
            sections.append(self._section(ctx, heading, slug, line, blocks))
        return sections

    def _unique_slug(self, heading: str, line: int, slugs: dict[str, tuple[str, int]]) -> str:
        """GitHub's rule for repeated anchors (``foo``, ``foo-1``, ``foo-2``), so a key and a
        ``url#anchor`` always name one section; a heading with no letters gets ``section``."""
        base = slugify(heading)[:MAX_SLUG_CHARS].rstrip("-") or "section"
        slug, n = base, 0
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        if n:
            first_heading, first_line = slugs[base]
            self.report(
                line,
                f"heading {heading!r} has the same anchor #{base} as {first_heading!r} "
                f"(line {first_line}); this section's key is #{slug}",
                "warning",
            )
        slugs[slug] = (heading, line)
        return slug

    def _section(
        self, ctx: SectionContext, heading: str, slug: str, line: int, blocks: list[_Block]
    ) -> Section:
        markdown = "\n".join(self.lines[blocks[0].start : blocks[-1].end]).strip()
        text = " ".join(block.text for block in blocks)
        return Section(
            playbook_title=ctx.title,
            playbook_slug=ctx.playbook_slug,
            heading=heading,
            slug=slug,
            markdown=markdown,
            text=text,
            item_rows=tuple(make_items(blocks, self.lines, ctx.offset, markdown, text)),
            link_rows=tuple(link for block in blocks for link in block.links),
            path=ctx.path,  # type: ignore[arg-type]
            line=line,
            url=f"{ctx.playbook_url}#{slug}" if ctx.playbook_url else None,
        )

    def _split_by_h2(self, offset: int) -> Iterator[tuple[str, int, list[_Block]]]:
        heading: str | None = None
        heading_line = 0
        blocks: list[_Block] = []
        for unit in _BlockReader(self.document, offset, self.report).units():
            if isinstance(unit, _Heading):
                if heading is not None:
                    yield heading, heading_line, blocks
                heading, blocks = None, []
                if unit.level == "H2":
                    heading, heading_line = unit.text, unit.line
            elif heading is not None:
                blocks.append(unit)
        if heading is not None:
            yield heading, heading_line, blocks


# --------------------------------------------------------------------------- items


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


def _word_slug(text: str, words: int = 8) -> str:
    return slugify(" ".join(text.split()[:words]))


def make_items(
    blocks: list[_Block], lines: list[str], offset: int, section_markdown: str, section_text: str
) -> Iterator[ItemRow]:
    """Group a section's blocks into quotable items with slugs unique in the section. Each
    item's Markdown and text are found in its section's, from where the previous item's end
    (items are in order, and only white space lies between them)."""
    used_slugs: dict[str, int] = {}
    markdown_at = text_at = 0

    def build(kind: ItemKind, title: str | None, group: list[_Block]) -> ItemRow:
        nonlocal markdown_at, text_at
        markdown = "\n".join(lines[group[0].start : group[-1].end]).strip()
        text = " ".join(b.text for b in group)
        base = _word_slug(title or text) or kind
        used_slugs[base] = used_slugs.get(base, 0) + 1
        slug = base if used_slugs[base] == 1 else f"{base}-{used_slugs[base]}"
        links = tuple(link for b in group for link in b.links)
        markdown_start = section_markdown.index(markdown, markdown_at)
        text_start = section_text.index(text, text_at)
        markdown_at, text_at = markdown_start + len(markdown), text_start + len(text)
        spans = (markdown_start, markdown_at, text_start, text_at)
        return kind, title, slug, group[0].start + offset + 1, links, spans

    i = 0
    while i < len(blocks):
        block = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.kind == "heading3":
            j = i + 1
            while j < len(blocks) and blocks[j].kind != "heading3":
                j += 1
            yield build("subsection", block.text, blocks[i:j])
            i = j
        elif _is_lead_line(block, nxt):
            j = i + 1
            while (
                j < len(blocks)
                and blocks[j].kind in ("paragraph", "other")
                and not _is_lead_line(blocks[j], blocks[j + 1] if j + 1 < len(blocks) else None)
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
