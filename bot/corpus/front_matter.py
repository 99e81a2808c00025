"""Front matter: split with python-frontmatter's format detection, parse without surprises,
and coerce each field to what the model wants.

Hand-written and generated files put anything here: keys that are numbers or dates, lists
where text belongs, JSON where YAML was meant, YAML anchors that expand a 700-byte file into
gigabytes. Every such case becomes a :class:`FrontMatterError` (the file cannot serve) or a
warning for one field (the field is dropped), never an exception that escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import frontmatter
import yaml

from bot.corpus.model import Author, Severity

KNOWN_KEYS = frozenset(
    {"title", "oneliner", "authors", "stage", "domain", "type", "url", "aliases", "tags"}
)
MAX_URL_CHARS = 3000
_SCALARS = (str, int, float)  # bool is an int; dates are handled in _scalar_text
_CLOSING_LINE = {"YAMLHandler": "`---`", "TOMLHandler": "`+++`", "JSONHandler": "`}`"}


class FrontMatterError(Exception):
    """The front matter cannot be read at all; the file cannot serve."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader minus anchors and aliases: a "billion laughs" front matter is
    refused at its first ``*alias`` instead of being expanded downstream."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in front matter", mark
            )
        return super().compose_node(parent, index)


@dataclass
class FrontMatter:
    """The parsed mapping plus where the body starts and what was wrong with fields."""

    meta: dict[str, Any]
    body: str
    body_offset: int  # lines before the body
    source: str = ""  # the raw front matter text, to find the line of a key
    warnings: list[tuple[int, str, Severity]] = field(default_factory=list)

    def key_line(self, key: str) -> int:
        """1-based file line where ``key`` is set (1 when it cannot be told)."""
        pattern = re.compile(
            rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*[:=]", re.MULTILINE | re.IGNORECASE
        )
        found = pattern.search(self.source)
        return 1 + self.source.count("\n", 0, found.start()) if found else 1

    def note(self, key: str, message: str, severity: Severity = "warning") -> None:
        self.warnings.append((self.key_line(key), message, severity))


def split(text: str) -> FrontMatter:
    """Separate front matter (YAML ``---``, TOML ``+++`` or JSON ``{``) from the body."""
    handler = frontmatter.detect_format(text, frontmatter.handlers)
    if handler is None:
        return FrontMatter({}, text, 0)
    kind = type(handler).__name__
    try:
        source, body = handler.split(text)
    except ValueError:
        closing = _CLOSING_LINE.get(kind, "its closing")
        raise FrontMatterError(1, f"front matter is not closed by a {closing} line") from None
    raw = _load(handler, kind, source)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FrontMatterError(2, "front matter must be a mapping of `key: value` lines")
    offset = text.count("\n", 0, len(text) - len(body))
    found = FrontMatter({}, body, offset, source)
    for key, value in raw.items():
        if not isinstance(key, str):
            found.note(
                _yaml_spelling(key),
                f"front matter key {key!s} is read as {_kind(key)}, not text (ignored)",
            )
        elif key not in KNOWN_KEYS:
            found.note(key, f"unknown front matter key {key!r} (ignored)")
        else:
            found.meta[key] = value
    return found


# libyaml's safe loader composes in C, about 17 times faster than PyYAML's Python one (1.6 s
# against 0.09 s for 1,000 front matters); None when PyYAML was built without libyaml.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


def _load_yaml(source: str) -> Any:
    """Front matter without an alias (no ``*``: nearly all of it) and valid YAML goes through
    libyaml, whose nesting limit also bounds hostile input; anything else takes PyYAML's
    Python loader, which refuses aliases at the line they are on and words errors the way
    every other message here is worded."""
    if _FAST_LOADER is not None and "*" not in source:
        try:
            return yaml.load(source, Loader=_FAST_LOADER)  # libyaml's SafeLoader
        except yaml.YAMLError:
            pass  # reported below, from the Python loader, with its line
    return yaml.load(source, Loader=_NoAliasLoader)  # a SafeLoader subclass


def _load(handler: Any, kind: str, source: str) -> Any:
    try:
        if kind == "YAMLHandler":
            return _load_yaml(source)
        return handler.load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1  # source line 0 ends the `---` line
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise FrontMatterError(line, f"front matter is not valid YAML: {reason}") from None
    except json.JSONDecodeError as exc:
        raise FrontMatterError(exc.lineno, f"front matter is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise FrontMatterError(1, "front matter is nested too deeply") from None
    except Exception as exc:  # any other parser failure is this file's problem only
        raise FrontMatterError(1, f"front matter cannot be read: {exc}") from None


# --------------------------------------------------------------------------- field coercion


def _scalar_text(value: Any) -> str | None:
    """Text of a scalar (strings, numbers, dates); None for lists, mappings and nulls.
    Hand-written front matter carries stray trailing commas (``name: Kelvin Yu,``)."""
    if value is None or isinstance(value, (list, tuple, set, dict, bytes)):
        return None
    if not isinstance(value, _SCALARS) and not hasattr(value, "isoformat"):
        return None
    return str(value).strip().rstrip(",").strip()


def text_field(fm: FrontMatter, key: str) -> str:
    value = fm.meta.get(key)
    if value is None:
        return ""
    text = _scalar_text(value)
    if text is None:
        fm.note(key, f"front matter {key!r} must be text, not a {_kind(value)} (ignored)")
        return ""
    return text


def list_field(fm: FrontMatter, key: str) -> tuple[str, ...]:
    """A list, a scalar, or a comma-separated string where a list is expected."""
    value = fm.meta.get(key)
    if value is None:
        return ()
    if isinstance(value, dict):
        fm.note(key, f"front matter {key!r} must be a list, not a mapping (ignored)")
        return ()
    entries: Iterable[Any] = value if isinstance(value, (list, tuple, set)) else [value]
    strings: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            strings.extend(entry.split(","))
        elif (text := _scalar_text(entry)) is not None:
            strings.append(text)
        elif entry is not None:
            fm.note(key, f"front matter {key!r} holds a {_kind(entry)} (that entry ignored)")
    return tuple(s for s in (_scalar_text(s) for s in strings) if s)


def authors_field(fm: FrontMatter) -> tuple[Author, ...]:
    value = fm.meta.get("authors")
    if value is None:
        return ()
    authors: list[Author] = []
    for entry in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(entry, dict):
            name = _scalar_text(entry.get("name"))
            link = _scalar_text(entry.get("link") or entry.get("url"))
            if link and (problem := url_problem(link)):
                fm.note("authors", f"author link {_short(link)!r}: {problem} (link ignored)")
                link = None
            if name:
                authors.append(Author(name, link or None))
            else:
                fm.note("authors", "an author without a `name` (ignored)")
        elif (name := _scalar_text(entry)) is not None:
            if name:
                authors.append(Author(name))
        elif entry is not None:
            fm.note("authors", f"an author given as a {_kind(entry)} (ignored)")
    return tuple(authors)


def url_field(fm: FrontMatter) -> str | None:
    """The playbook's web address: only http(s), at most 3,000 characters, or none (Slack
    rejects a button whose URL is anything else)."""
    if fm.meta.get("url") in (None, ""):
        return None
    url = _scalar_text(fm.meta["url"])
    problem = url_problem(url) if url is not None else "not text"
    if problem:
        fm.note("url", f"front matter url {_short(url or '')!r}: {problem} (ignored)", "error")
        return None
    return url


WEB_SCHEMES = frozenset({"http", "https"})
# An http(s) address with a plain host and nothing to percent-encode: nearly every link. It
# has a host and an allowed scheme, so it needs no urlsplit (a fifth of parsing a playbook).
PLAIN_WEB_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?"
    r"(?:[/?#](?:[A-Za-z0-9;/?:&=+$,\-_.!~*'()#]|%[0-9A-Fa-f]{2})*)?"
)


def url_problem(
    url: str, allowed: frozenset[str] = WEB_SCHEMES, length: int | None = None
) -> str | None:
    """Why ``url`` cannot be a web link, or None. ``length``: the whole address's, when
    ``url`` is only its start (a link found in text is checked from its first characters)."""
    size = len(url) if length is None else length
    if size > MAX_URL_CHARS:
        return f"{size:,} characters; the limit is {MAX_URL_CHARS:,}"
    if allowed >= WEB_SCHEMES and PLAIN_WEB_URL.fullmatch(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in allowed:
        return f"scheme {parts.scheme!r} is not allowed" if parts.scheme else "not an http(s) URL"
    if scheme in WEB_SCHEMES and not parts.netloc:
        return "no host"
    return None


def _yaml_spelling(key: Any) -> str:
    """How a non-text key is written in the file, to find its line."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return str(key).lower()
    return str(key)


def _kind(value: Any) -> str:
    names = {dict: "mapping", list: "list", tuple: "list", set: "set", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
