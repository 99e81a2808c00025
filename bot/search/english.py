"""How common a word is in everyday English, to tell a playbook question from office chatter.

Two decisions need a yardstick outside the corpus, which alone cannot know that "lunch" is a
word and not a typo of "launch", or that "office", "open" and "day" say nothing about
*which* playbook a question is about even when some playbook happens to contain them:

* **not a typo**: a word among the ~20,000 most frequent English words is left as typed;
* **domain weight** of a corpus term: how over-represented it is in the corpus compared with
  English ("weirdness", the log ratio of the two relative frequencies). "lottery" and "patent"
  score high, "office" and "review" low. A question is only answered when one of its words
  clears :data:`DOMAIN_MIN` (or it names a playbook or a section).

The frequencies come from pyspellchecker's English list (160,000 words counted in film and TV
subtitles, so it is everyday speech, not academic prose), read straight from the file in its
wheel: the spell checker itself is not used. Only the words asked about are kept.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

COMMON_RANK = 20_000  # words this frequent are real words, never typos
DOMAIN_MIN = 2.0  # log ratio: a term at least e^2 ≈ 7x more frequent in the corpus


@dataclass(frozen=True)
class EnglishFrequencies:
    total: int  # words counted in the English list
    common: frozenset[str]  # the COMMON_RANK most frequent
    counts: Mapping[str, int]  # only for the words asked about in load()

    def is_everyday(self, word: str) -> bool:
        """Among the most frequent English words, in either spelling: never a typo."""
        return word in self.common or american(word) in self.common

    def count(self, word: str) -> int:
        """How often ``word`` was counted, under its American spelling too: the list is
        American, so "organised" and "labour" would otherwise look like rare jargon."""
        return max(self.counts.get(word, 0), self.counts.get(american(word), 0))

    def domain_weights(
        self, corpus_counts: Mapping[str, int], surfaces: Mapping[str, Iterable[str]]
    ) -> dict[str, float]:
        """Log ratio of each term's corpus frequency to its English frequency. ``surfaces``:
        the words as written that share the term (its stem): "grants", "granted" → "grant"."""
        corpus_total = max(sum(corpus_counts.values()), 1)
        weights = {}
        for term, count in corpus_counts.items():
            english = sum(self.count(word) for word in surfaces.get(term, ()))
            weights[term] = math.log((count / corpus_total) / ((english + 1) / max(self.total, 1)))
        return weights


_BRITISH = (
    (re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"(?<=[a-z]{2})our(s|ed|ing|ful)?$"), r"or\1"),
    (re.compile(r"(?<=[a-z]{2})tre(s)?$"), r"ter\1"),
    (re.compile(r"^programme"), "program"),
)


def american(word: str) -> str:
    """The American spelling of a British one ("organised" → "organized"), else the word."""
    for pattern, replacement in _BRITISH:
        word = pattern.sub(replacement, word)
    return word


def load_english(wanted: Iterable[str] = ()) -> EnglishFrequencies:
    """The English list, keeping counts only for ``wanted`` words (the full list is dropped
    once read: ~10 MB as a dict)."""
    resource = importlib.resources.files("spellchecker") / "resources" / "en.json.gz"
    full: dict[str, int] = json.loads(gzip.decompress(resource.read_bytes()))
    values = sorted(full.values(), reverse=True)
    cutoff = values[min(COMMON_RANK, len(values)) - 1] if values else 0
    common = frozenset(word for word, count in full.items() if count > cutoff)
    wanted = {form for word in wanted for form in (word, american(word))}
    counts = {word: full[word] for word in wanted if word in full}
    return EnglishFrequencies(sum(values), common, counts)
