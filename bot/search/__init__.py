"""Search over the corpus: which playbook, which kind of section, which passage.

``intent`` (headings, aliases, cues) and ``names`` (titles, acronyms) read the question;
``index`` scores sections; ``results`` is what comes back; ``index_cache`` keeps a built index
on disk. The tables in ``intent`` import no numpy, so settings can read them without loading
the search engine: ``Index`` is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.search.intent import DEFAULT_ALIASES, DEFAULT_CUES
from bot.search.results import SearchResponse, SearchResult

if TYPE_CHECKING:
    from bot.search.index import MAX_QUERY_WORDS, Index

__all__ = [
    "DEFAULT_ALIASES",
    "DEFAULT_CUES",
    "MAX_QUERY_WORDS",
    "Index",
    "SearchResponse",
    "SearchResult",
]


def __getattr__(name: str) -> Any:
    if name in ("Index", "MAX_QUERY_WORDS"):
        from bot.search import index

        return getattr(index, name)
    raise AttributeError(name)
