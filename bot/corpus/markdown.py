"""Markdown structure: ``##`` sections and the quotable items inside them, from markdown-it-py
tokens (never regexes over Markdown).

The rules a playbook follows are the seed's: ``##`` headings are sections; inside one, each
top-level bullet, ``###`` sub-section, paragraph, or short lead line with its paragraphs is an
item that can be quoted on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.corpus.lint import link_problem, text_link_problem, text_links
from bot.corpus.model import Item, ItemKind, Link, Section, Severity

LEAD_LINE_MAX_CHARS = 120
MAX_SLUG_CHARS = 120  # a section key rides in button values (Slack: 2,000 characters)
_MARKDOWN = MarkdownIt("commonmark")
# An http(s) address with a plain host and nothing to percent-encode: what markdown-it's
# normalizeLink (parse, punycode the host, re-format, encode) gives back unchanged.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?"
    r"(?:[/?#](?:[A-Za-z0-9;/?:&=+$,\-_.!~*'()#]|%[0-9A-Fa-f]{2})*)?"
)
_library_normalize_link = _MARKDOWN.normalizeLink


def normalize_link(url: str) -> str:
    """markdown-it's link normalisation, skipped where it would change nothing: it costs
    ~40 µs a link (a sixth of parsing a playbook), and nearly every link is already plain."""
    return url if _PLAIN_URL.fullmatch(url) else _library_normalize_link(url)


_MARKDOWN.normalizeLink = normalize_link  # type: ignore[method-assign]

Report = Callable[[int, str, Severity], None]


def slugify(text: str) -> str:
    """GitHub-style anchor: lower-case, punctuation dropped, spaces to hyphens."""
    if not text.isascii():  # ASCII has nothing to decompose (most headings and items)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s-]", "", text.casefold())
    return re.sub(r"[\s_]+", "-", text).strip("-")


def parse_tokens(body: str) -> list[Token]:
    return _MARKDOWN.parse(body)


def inline_text(token: Token) -> str:
    """Plain text of an inline token: link text kept, markup dropped."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "html_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def first_h1(tokens: Sequence[Token]) -> str:
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return inline_text(tokens[i + 1]).strip()
    return ""


@dataclass
class _Block:
    """A top-level block of a section, with what was extracted from its inline tokens."""

    kind: str  # paragraph | list_item | heading3 | other
    start: int  # 0-based line in the body
    end: int
    text: str
    links: list[Link]


@dataclass(frozen=True)
class SectionContext:
    """What every section of one file shares."""

    title: str
    playbook_slug: str
    playbook_url: str | None
    path: object  # pathlib.Path; kept loose so this module needs no filesystem
    offset: int  # lines before the body


class SectionParser:
    """Turns one body's tokens into sections, reporting problems through ``report``."""

    def __init__(self, tokens: Sequence[Token], body: str, report: Report) -> None:
        self.tokens = tokens
        self.lines = body.split("\n")
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
        return Section(
            playbook_title=ctx.title,
            playbook_slug=ctx.playbook_slug,
            heading=heading,
            slug=slug,
            markdown=markdown,
            text=" ".join(block.text for block in blocks),
            items=tuple(make_items(blocks, self.lines, ctx.offset)),
            links=tuple(link for block in blocks for link in block.links),
            path=ctx.path,  # type: ignore[arg-type]
            line=line,
            url=f"{ctx.playbook_url}#{slug}" if ctx.playbook_url else None,
        )

    def _split_by_h2(self, offset: int) -> Iterator[tuple[str, int, list[_Block]]]:
        tokens = self.tokens
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
                    heading = inline_text(tokens[i + 1]).strip()
                    heading_line = token.map[0] if token.map else 0
                i += 3
                continue
            block, i = self._read_block(i, offset)
            if heading is not None and block is not None:
                blocks.append(block)
        if heading is not None:
            yield heading, heading_line, blocks

    def _read_block(self, i: int, offset: int) -> tuple[_Block | None, int]:
        """Consume one top-level block (or one list item of a top-level list)."""
        tokens = self.tokens
        token = tokens[i]
        if token.type.endswith("_list_open") or token.type.endswith("_list_close"):
            return None, i + 1
        if token.map is None:
            return None, i + 1
        start, end = token.map
        kind = {
            "paragraph_open": "paragraph",
            "list_item_open": "list_item",
            "heading_open": "heading3",
        }.get(token.type, "other")
        depth, j = token.nesting, i + 1
        texts: list[str] = []
        links: list[Link] = []
        while depth > 0 and j < len(tokens):  # to the matching close token
            inner = tokens[j]
            depth += inner.nesting
            if inner.type == "inline":
                line = (inner.map[0] if inner.map else start) + offset + 1
                texts.append(inline_text(inner))
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
            if child.type == "text":
                for found in text_links(child.content):
                    if problem := text_link_problem(found):
                        self.report(line, problem, "error")
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href", "")).strip()
            text_parts = []
            for grand in children[k + 1 :]:
                if grand.type == "link_close":
                    break
                text_parts.append(grand.content)
            text = "".join(text_parts).strip()
            if problem := link_problem(href):
                self.report(line, f"bad link {href[:60]!r}: {problem}", "error")
                continue
            links.append(Link(text or href, href, line))
        return links


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


def make_items(blocks: list[_Block], lines: list[str], offset: int) -> Iterator[Item]:
    """Group a section's blocks into quotable items with slugs unique in the section."""
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
