"""Markdown -> Slack mrkdwn (and plain text), safely, from the CommonMark parser's tree.

Slack's mrkdwn is not Markdown: links are ``<url|text>``, bold is ``*x*``, and ``&``, ``<``,
``>`` must be escaped or Slack reads them as control sequences (``<!channel>`` pings a whole
channel). Walking the real parser's tree (pyromark, which reads the corpus too), rather than
rewriting with regexes, keeps nested lists, links inside emphasis and literal ``<3 years``
correct.

Conversion yields *units* (a paragraph, a bullet with its children, a code block) so callers
can trim long text at a unit boundary and never cut a link in half.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyromark

from bot.corpus.markdown import MAX_NESTING, normalize_link, tag_name

ELLIPSIS = "…"
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# "@channel" in plain text can ping when a client enables link_names; a word joiner defuses it.
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Escape user or corpus text for mrkdwn: no control sequences, no broadcast pings."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"@{_WORD_JOINER}{m.group(1)}", text)


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (runs of white space folded), cut to ``limit`` characters with an
    ellipsis: what a header, a button label or a notification can hold."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + ELLIPSIS


def quote_user_text(text: str, limit: int = 200) -> str:
    """User text echoed back in a message: escaped, one line, bounded length."""
    return escape(one_line(text, limit))


def safe_url(url: str) -> str | None:
    """Only http(s)/mailto URLs become links; ``|`` and ``>`` would break ``<url|text>``."""
    url = url.strip()
    if urlsplit(url).scheme.lower() not in SAFE_SCHEMES:
        return None
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def link(url: str, text: str) -> str:
    """A mrkdwn link, or the escaped text alone when the URL is not safe."""
    target = safe_url(url)
    label = escape(" ".join(text.split())).replace("|", "¦") or escape(url)
    return f"<{target}|{label}>" if target else label


@dataclass(slots=True)
class _Node:
    """One element of the parser's tree: a container (``Paragraph``, ``List``, ``Link``…)
    with its start tag and children, or a leaf (``Text``, ``Code``, ``SoftBreak``…) with its
    text."""

    name: str
    value: Any  # a container's start tag; a leaf's text (None for breaks and rules)
    children: list[_Node] = field(default_factory=list)


def _tree(markdown: str) -> list[_Node]:
    """The parser's events as a tree. Containers nested deeper than the corpus allows
    (:data:`MAX_NESTING`) are flattened into their parent, so rendering never recurses
    past it."""
    root: list[_Node] = []
    stack = [root]
    flattened = 0  # containers opened past the limit, whose ends must not pop
    for event in pyromark.events(markdown):
        if event.__class__ is str:
            stack[-1].append(_Node(event, None))
        elif (tag := event.get("Start")) is not None:
            if len(stack) > MAX_NESTING:
                flattened += 1
                continue
            node = _Node(tag_name(tag), tag)
            stack[-1].append(node)
            stack.append(node.children)
        elif "End" in event:
            if flattened:
                flattened -= 1
            else:
                stack.pop()
        else:
            ((key, value),) = event.items()
            stack[-1].append(_Node(key, value))
    return root


_INLINE = frozenset(
    {
        "Text",
        "Code",
        "InlineHtml",
        "SoftBreak",
        "HardBreak",
        "Emphasis",
        "Strong",
        "Link",
        "Image",
        "Strikethrough",
    }
)


_TEXT_LEAVES = frozenset({"Text", "Code", "InlineHtml", "Html"})


def _text(nodes: Iterable[_Node]) -> str:
    """Plain text of inline nodes: a link's label, an image's alt text (a container's start
    tag may be a string too, "Strong": only the leaves named here hold text)."""
    return "".join(
        node.value
        if node.name in _TEXT_LEAVES
        else " "
        if "Break" in node.name
        else _text(node.children)
        for node in nodes
    )


class _Renderer:
    """Renders a parsed tree either to mrkdwn or to plain text."""

    def __init__(self, plain: bool) -> None:
        self.plain = plain

    def inline(self, nodes: Iterable[_Node]) -> str:
        out: list[str] = []
        for node in nodes:
            name = node.name
            if name in ("Text", "InlineHtml"):
                out.append(node.value if self.plain else escape(node.value))
            elif name == "Code":
                out.append(node.value if self.plain else f"`{escape(node.value)}`")
            elif name == "SoftBreak":
                out.append(" ")
            elif name == "HardBreak":
                out.append("\n")
            elif name in ("Strong", "Emphasis"):
                mark = "" if self.plain else "*" if name == "Strong" else "_"
                out.append(f"{mark}{self.inline(node.children)}{mark}")
            elif name == "Link":
                href = normalize_link(node.value["Link"]["dest_url"])
                label = _text(node.children)
                if self.plain:
                    out.append(f"{label} ({href})" if href and href != label else label)
                else:
                    out.append(link(href, label))
            elif name == "Image":
                alt = _text(node.children)
                out.append(alt if self.plain else escape(alt))
            elif name == "Strikethrough":
                out.append(self.inline(node.children))
        return "".join(out)

    def blocks(self, nodes: Sequence[_Node]) -> list[str]:
        """Top-level units, each a paragraph, list item (with children) or code block; inline
        text straight inside a container (a paragraph flattened past the nesting limit) is a
        paragraph of its own."""
        units: list[str] = []
        for node in _runs(nodes):
            if isinstance(node, list):
                units.append(self.inline(node))
                continue
            name = node.name
            if name == "List":
                units.extend(self._list(node, depth=0))
            elif name == "Paragraph":
                units.append(self.inline(node.children))
            elif name == "Heading":
                text = self.inline(node.children)
                units.append(text if self.plain else f"*{text}*")
            elif name == "CodeBlock":
                code = _text(node.children).rstrip("\n")
                units.append(code if self.plain else f"```{escape(code)}```")
            elif name == "BlockQuote":
                inner = self.blocks(node.children)
                units.append("\n".join(f"> {line}" for u in inner for line in u.split("\n")))
            elif name == "HtmlBlock":
                html = _text(node.children).strip()
                units.append(html if self.plain else escape(html))
        return [u for u in units if u.strip()]

    def _list(self, node: _Node, depth: int) -> list[str]:
        """One unit per list item at this depth, nested lists indented inside it."""
        ordered = node.value["List"] is not None  # an ordered list's start number
        items: list[str] = []
        for number, item in enumerate((n for n in node.children if n.name == "Item"), 1):
            marker = f"{number}." if ordered else ("•" if depth % 2 == 0 else "◦")
            indent = "    " * depth
            lines: list[str] = []
            for text in self._item_lines(item.children, depth):
                if isinstance(text, list):
                    lines.extend(text)
                else:
                    prefix = f"{indent}{marker} " if not lines else f"{indent}  "
                    lines.append(prefix + text)
            items.append("\n".join(lines))
        return items

    def _item_lines(self, nodes: Sequence[_Node], depth: int) -> Iterator[str | list[str]]:
        """An item's lines of text (a tight item's inline run, each paragraph or heading,
        also inside a quote) and its nested lists' rendered items, in order."""
        for child in _runs(nodes):
            if isinstance(child, list):
                yield self.inline(child)
            elif child.name == "List":
                yield self._list(child, depth + 1)
            elif child.name in ("Paragraph", "Heading"):
                yield self.inline(child.children)
            elif child.name not in ("CodeBlock", "HtmlBlock"):
                yield from self._item_lines(child.children, depth)


def _runs(nodes: Sequence[_Node]) -> Iterator[_Node | list[_Node]]:
    """The nodes in order, each run of consecutive inline ones as one list: a tight list
    item's text, or a paragraph's flattened past the nesting limit, is one line."""
    run: list[_Node] = []
    for node in nodes:
        if node.name in _INLINE:
            run.append(node)
            continue
        if run:
            yield run
            run = []
        yield node
    if run:
        yield run


def to_units(markdown: str, *, plain: bool = False) -> list[str]:
    """Markdown -> list of mrkdwn (or plain text) units: paragraphs, bullets, code blocks."""
    return list(_units(markdown, plain))


@functools.lru_cache(maxsize=4096)
def _units(markdown: str, plain: bool) -> tuple[str, ...]:
    """Corpus text is rendered again for every answer that shows it: parse it once."""
    return tuple(_Renderer(plain).blocks(_tree(markdown)))


def to_mrkdwn(markdown: str) -> str:
    return "\n".join(_join(to_units(markdown)))


def to_plain_text(markdown: str) -> str:
    return "\n".join(_join(to_units(markdown, plain=True)))


def _join(units: Iterable[str]) -> list[str]:
    """Bullets sit on consecutive lines; paragraphs get a blank line between them."""
    out: list[str] = []
    previous_bullet = False
    for unit in units:
        marker = unit.lstrip().split(" ", 1)[0]
        bullet = marker in ("•", "◦") or (marker.endswith(".") and marker[:-1].isdigit())
        if out and not (bullet and previous_bullet):
            out.append("")
        out.append(unit)
        previous_bullet = bullet
    return out


def truncate(text: str, limit: int) -> str:
    """Cut mrkdwn to ``limit`` chars at a word boundary, never inside ``<...>`` or ``&..;``."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    space = cut.rfind(" ")
    if space > len(cut) * 0.6:
        cut = cut[:space]
    open_link = cut.rfind("<")  # after the word cut: a space may sit inside a link's label
    if open_link > cut.rfind(">"):
        cut = cut[:open_link]
    # an escape cut short (``&am``); an ``&`` before a link's closing ``>`` is in its URL
    amp = cut.rfind("&")
    if amp > max(cut.rfind(";"), cut.rfind(">")) and amp >= len(cut) - 6:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def fit_units(units: Sequence[str], limit: int) -> tuple[str, bool]:
    """All the units if they fit in ``limit``; else whole units while they fit with room for
    a closing "\n…"; returns (text, trimmed?).

    The first unit is always shown (truncated safely if it alone is too long), so a reply is
    never empty."""
    text = "\n".join(_join(units))
    if len(text) <= limit:
        return text, False
    kept: list[str] = []
    for unit in units:
        candidate = "\n".join(_join([*kept, unit]))
        if len(candidate) + len(ELLIPSIS) + 1 > limit and kept:
            shown = "\n".join(_join(kept)) + "\n" + ELLIPSIS
            # the first unit was kept without room for "\n…": it may fill the budget alone
            return (shown if len(shown) <= limit else truncate(candidate, limit)), True
        kept.append(unit)
    return truncate(text, limit), True  # a single unit, too long


# ---------------------------------------------------------------------------- sentences

_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "ms.", "dr.", "st."})
_SENTENCE_END = re.compile(r"[.!?][”’\"')\]]*(?=\s)")


def split_sentences(text: str) -> list[str]:
    """mrkdwn text cut into sentences: after ``.``/``!``/``?`` (and closing quotes) and a
    space, never inside ``<…>`` (a link or mention), never after ``e.g.`` or ``U.S.``."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text.rfind("<", 0, end) > text.rfind(">", 0, end):
            continue  # inside a link's label
        word = text[start:end].split()[-1].casefold() if text[start:end].split() else ""
        word = word.rstrip("”’\"')]")
        if word in _ABBREVIATIONS or word[:-1].count(".") or (len(word) == 2 and word[0].isalpha()):
            continue  # "e.g.", "U.S.", an initial
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def fit_sentences(
    units: Sequence[str], limit: int, measure: Callable[[str], int] = len
) -> tuple[str, bool]:
    """Like :func:`fit_units`, but the unit that does not fit is cut at its last sentence
    that does (so a long paragraph or single bullet ends on a full stop and "…", never
    mid-link; a bullet with nested lines is kept or dropped whole);
    ``measure`` is how long a text counts as (e.g. its visible length)."""
    kept: list[str] = []
    for unit in units:
        if measure("\n".join(_join([*kept, unit]))) + len(ELLIPSIS) + 1 <= limit:
            kept.append(unit)
            continue
        nested_list = unit.lstrip().startswith(("•", "◦")) and "\n" in unit
        sentences = split_sentences(unit) if not nested_list else []
        indent = unit[: len(unit) - len(unit.lstrip())]  # a nested bullet stays nested
        partial = ""
        for sentence in sentences[:-1]:
            candidate = indent + f"{partial.strip()} {sentence}".strip()
            if measure("\n".join(_join([*kept, candidate]))) + len(ELLIPSIS) + 1 > limit:
                break
            partial = candidate
        if partial:
            return "\n".join(_join([*kept, partial])) + " " + ELLIPSIS, True
        if kept:
            return "\n".join(_join(kept)) + "\n" + ELLIPSIS, True
        return truncate(unit, limit), True
    return "\n".join(_join(kept)), False


# ---------------------------------------------------------------------------- what people see

_LABELLED = re.compile(r"<([^<>|]*)\|([^<>]*)>")
_BARE = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]*)`")


@functools.lru_cache(maxsize=2048)
def visible_length(mrkdwn: str) -> int:
    """``len(visible(mrkdwn))``, remembered: fitting an answer measures the same units, and
    the same growing joins of them, for every answer that shows them (five regular
    expressions a measure were most of rendering an answer)."""
    return len(visible(mrkdwn))


def visible(mrkdwn: str, names: dict[str, str] | None = None) -> str:
    """Roughly what Slack shows for mrkdwn: link labels, no markers, entities decoded.

    ``names`` maps ids to display names (``{"UBOT": "hubs"}`` → ``@hubs``); unknown user
    mentions show as ``@user`` and channels as ``#channel``."""
    names = names or {}

    def control(target: str, label: str | None) -> str:
        if target.startswith("@"):
            return "@" + (label or names.get(target[1:], "user"))
        if target.startswith("#"):
            return "#" + (label or names.get(target[1:], "channel"))
        if target.startswith("!"):
            return label or ""
        return label if label is not None else target

    text = _LABELLED.sub(lambda m: control(m.group(1), m.group(2)), mrkdwn)
    text = _BARE.sub(lambda m: control(m.group(1), None), text)
    text = _CODE.sub(r"\1", _ITALIC.sub(r"\1", _BOLD.sub(r"\1", text)))
    text = text.replace(_WORD_JOINER, "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
