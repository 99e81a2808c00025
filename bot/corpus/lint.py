"""Link checks that run in time linear in the file: link schemes and lengths, and the
``[label](destination`` the parser left as text (a space in the URL, a missing parenthesis).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.corpus.front_matter import url_problem

# links in playbook text: the web, mail, and relative ones (no scheme)
ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "mailto", ""})


def link_problem(href: str, length: int | None = None) -> str | None:
    """Why a link destination cannot be shown in Slack, or None."""
    if not href:
        return "empty URL"
    return url_problem(href, ALLOWED_LINK_SCHEMES, length)


@dataclass(frozen=True, slots=True)
class TextLink:
    """``[label](destination`` found in plain text: the parser did not make it a link."""

    snippet: str  # at most SNIPPET_CHARS, for the message
    destination: str  # its first HEAD_CHARS: enough for the scheme and host
    length: int  # the whole destination's
    closed: bool  # the destination ended with ``)``


_LABEL_END = re.compile(r"\][ \t]*\(")
_DESTINATION_END = re.compile(r"[)\s]")
SNIPPET_CHARS = 60
HEAD_CHARS = 256


def text_links(text: str) -> Iterator[TextLink]:
    """Every ``[label](dest`` in ``text``, in one pass: each character is looked at a bounded
    number of times and each link costs a bounded slice, whatever the text (a regex with
    nested repetition was quadratic)."""
    floor = 0  # a label starts after the previous match: label scans never overlap
    stop = -1  # cached first ``)``/space at or after the current destination start
    for match in _LABEL_END.finditer(text):
        opening = text.rfind("[", floor, match.start())
        newline = text.rfind("\n", floor, match.start())
        floor = match.end()
        if opening < 0 or newline > opening:
            continue
        start = match.end()
        if stop < start:
            found = _DESTINATION_END.search(text, start)
            stop = found.start() if found else len(text)
        closed = stop < len(text) and text[stop] == ")"
        end = stop + 1 if closed else stop
        snippet = text[opening : min(end, opening + SNIPPET_CHARS)]
        if end - opening > SNIPPET_CHARS:
            snippet = snippet[:-1] + "…"
        destination = text[start : min(stop, start + HEAD_CHARS)]
        yield TextLink(snippet, destination, stop - start, closed)


def text_link_problem(link: TextLink) -> str | None:
    """A refused scheme (``javascript:``, ``vbscript:``, ``data:``…), an over-long address, or
    a destination that does not end in ``)`` (a space in the URL, a missing parenthesis)."""
    if link.closed and link.length:
        problem = link_problem(link.destination, link.length)
        return f"bad link {link.snippet!r}: {problem}" if problem else None
    return f"malformed link {link.snippet!r}: expected [text](url)"
