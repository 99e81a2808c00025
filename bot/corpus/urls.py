"""Which playbook or section a web address names: the table behind Slack link unfurling.

A playbook's front matter ``url`` is where it is published; each section is that address with
its anchor (``Section.url`` = ``url#slug``). People paste those addresses in many spellings, so
addresses are compared by a *key* that ignores what does not change the page: ``http`` or
``https``, a ``www.`` prefix, the host's case, a default port, a trailing slash, the query
string and percent-encoding. The table is a dict built once per :class:`Corpus` object (a
reload makes a new corpus, and so a new table), so looking up a link costs no scan.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.corpus.model import Corpus, Playbook, Section

MAX_UNFURL_DOMAINS = 5  # Slack's limit for an app's unfurl domains
_WEB_SCHEMES = frozenset({"http", "https"})
_CACHED_TABLES = 4  # a few corpora may be alive at once (a reload in flight, tests)

Key = tuple[str, str, str]  # host (no www., lower case, with a non-default port), path, anchor


def host_of(url: str) -> str | None:
    """The host a web address is on, lower case, without ``www.`` and a default port; None
    for anything but an http(s) address with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".").removeprefix("www.")
    return f"{host}:{port}" if port not in (None, 80, 443) else host


def _domain(url: str) -> str | None:
    """The host of a web address, lower case, without a port; None if it has none."""
    if host_of(url) is None:
        return None
    return (urlsplit(url.strip()).hostname or "").rstrip(".") or None


def url_key(url: str) -> Key | None:
    """The address compared, see the module's docstring; None when it is not a web address."""
    host = host_of(url)
    if host is None:
        return None
    parts = urlsplit(url.strip())
    path = unquote(parts.path).rstrip("/")
    return host, path, unquote(parts.fragment).casefold()


@dataclass(frozen=True)
class UrlTable:
    """Playbooks and sections by :func:`url_key` of their address."""

    playbooks: dict[Key, Playbook]
    sections: dict[Key, Section]

    @classmethod
    def build(cls, corpus: Corpus) -> UrlTable:
        playbooks: dict[Key, Playbook] = {}
        sections: dict[Key, Section] = {}
        for playbook in corpus.playbooks:
            key = url_key(playbook.url) if playbook.url else None
            if key is None:
                continue
            playbooks.setdefault(key, playbook)  # two playbooks at one address: the first
            for section in playbook.sections:
                section_key = url_key(section.url) if section.url else None
                if section_key is not None and section_key != key:
                    sections.setdefault(section_key, section)
        return cls(playbooks, sections)

    def lookup(self, url: str) -> Playbook | Section | None:
        """The section an address names (with its anchor), else its playbook (an unknown
        anchor still names the page), else None."""
        key = url_key(url)
        if key is None:
            return None
        section = self.sections.get(key) if key[2] else None
        if section is not None:
            return section
        return self.playbooks.get(key) or self.playbooks.get((key[0], key[1], ""))


_lock = threading.Lock()
_tables: dict[int, tuple[Corpus, UrlTable]] = {}


def url_table(corpus: Corpus) -> UrlTable:
    """The table for ``corpus``, built on first use and kept while it is one of the few most
    recent corpora (by identity: a reloaded corpus is a new object and gets a new table)."""
    with _lock:
        cached = _tables.get(id(corpus))
        if cached is not None and cached[0] is corpus:
            return cached[1]
    table = UrlTable.build(corpus)
    with _lock:
        _tables[id(corpus)] = (corpus, table)
        while len(_tables) > _CACHED_TABLES:
            del _tables[next(iter(_tables))]
    return table


def unfurl_domains(corpus: Corpus, limit: int = MAX_UNFURL_DOMAINS) -> tuple[list[str], list[str]]:
    """The hosts of the playbooks' addresses, as written (``www.`` kept: Slack matches the
    domain it is given), for Slack to send links of: the ``limit`` most used (by playbooks,
    ties by name), sorted, and the rest (sorted) that did not fit."""
    counts = Counter(d for p in corpus.playbooks if p.url and (d := _domain(p.url)))
    ranked = sorted(counts, key=lambda host: (-counts[host], host))
    return sorted(ranked[:limit]), sorted(ranked[limit:])
