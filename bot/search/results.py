"""What a search returns: results with the reasons they matched, or suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from bot.corpus import Item, Playbook, Section
from bot.search.tokens import fold


@dataclass(frozen=True, slots=True)
class SearchResult:
    section: Section
    score: float
    items: tuple[Item, ...]
    """The best-matching items, best first; all items when the match was on the heading."""
    matched_terms: tuple[str, ...] = ()
    """Question words found in the section (as typed or as corrected)."""
    intent: str | None = None
    """The heading or alias the question named, e.g. ``"pitfalls"``."""
    intent_typed: str | None = None
    """How the question spelled it, when that differs (``"pitfals"``)."""

    @property
    def reason(self) -> str:
        parts = []
        if self.intent:
            typed = f' (you typed "{self.intent_typed}")' if self.intent_typed else ""
            parts.append(f'matched "{self.intent}"{typed}')
        spelled = set((self.intent_typed or self.intent or "").split())
        extra = [t for t in self.matched_terms if t not in spelled]
        if extra:
            parts.append("words: " + ", ".join(extra))
        return "; ".join(parts) or "in this playbook"


@dataclass(frozen=True, slots=True)
class SearchResponse:
    query: str
    results: tuple[SearchResult, ...]
    corrections: tuple[tuple[str, str], ...] = ()
    """(typed, corrected) pairs, e.g. ``("pitfals", "pitfalls")``."""
    suggestions: tuple[Section, ...] = ()
    """Nearest sections to offer when nothing matched."""
    playbook: Playbook | None = None
    """The playbook the question named, if it narrowed the search."""
    notice: str | None = None
    """Why a question could not be answered as asked (empty, only common words, too long)."""
    partial: bool = False
    """The question named a playbook but nothing in it matched the rest: the results are that
    playbook's nearest sections, offered as a partial answer."""

    @property
    def no_match(self) -> bool:
        return not self.results

    @property
    def corrected_query(self) -> str:
        corrected = self.query
        for typed, fixed in self.corrections:
            corrected = _replace_word(corrected, typed, fixed)
        return corrected


def _replace_word(text: str, old: str, new: str) -> str:
    out = []
    for word in text.split(" "):
        out.append(new if fold(word).strip("?!.,;:'\"") == old else word)
    return " ".join(out)
