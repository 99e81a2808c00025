"""Typo correction against the corpus's own words: ``pitfals`` → ``pitfalls``.

An unknown question word is replaced by the closest corpus word (rapidfuzz ``ratio`` ≥ 80) of
similar length; acronyms, phrase words and stop words are left alone, and ``buy outs`` is
joined to ``buyouts`` when only the joined word is a corpus word. Candidates share the word's
length (±2) and its first or last letter: a typo rarely hits both ends, and this keeps each
lookup to a few hundred words. Results are cached. Equally close candidates ("mils": "mills"
or "miles") are told apart by the rest of the question when the caller can (``prefer``: the
one found beside the other words), else the first in a fixed order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Sequence

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from bot.search.tokens import STOPWORDS, is_stopword, stem

Prefer = Callable[[Sequence[str], Sequence[str]], str]

TYPO_MIN_LENGTH = 3
TYPO_MAX_LENGTH = 30
TYPO_CUTOFF = 80.0
CACHE_LIMIT = 100_000
# An unknown word one edit (a transposition included) from one of these is that stop word
# mistyped; shorter stop words are too close to real words ("tho", "ot").
STOPWORD_TYPO_TARGETS = tuple(sorted(w for w in STOPWORDS if len(w) >= 4))


class Speller:
    def __init__(
        self,
        surface: set[str],
        corpus_stems: set[str],
        phrase_stems: set[str],
        keep: set[str],
        is_real_word: Callable[[str], bool] = lambda word: False,
    ) -> None:
        """``surface``: the corpus's words as written; ``corpus_stems`` and ``phrase_stems``:
        words that need no correction; ``keep``: words never corrected (acronyms, phrases);
        ``is_real_word``: everyday English, never a typo ("lunch" is not "launch")."""
        self._is_real_word = is_real_word
        self._surface = surface
        self._corpus_stems = corpus_stems
        self._known_stems = corpus_stems | phrase_stems
        self._keep = keep
        self.vocabulary_size = 0
        self._by_first: dict[tuple[int, str], list[str]] = defaultdict(list)
        self._by_last: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in sorted(surface):
            if len(word) >= TYPO_MIN_LENGTH and word.isalpha() and not is_stopword(word):
                self.vocabulary_size += 1
                self._by_first[len(word), word[0]].append(word)
                self._by_last[len(word), word[-1]].append(word)
        self._candidates_cache: dict[tuple[int, str, str], list[str]] = {}
        self._correction_cache: dict[str, tuple[str, ...]] = {}

    def correct(
        self,
        words: Sequence[str],
        prefer: Prefer | None = None,
        as_typed: Container[str] = (),
    ) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """(the words as searched, the (typed, corrected) pairs), split words joined first.
        ``prefer(candidates, other words)``: which of several equally close corrections the
        rest of the question points at; ``as_typed``: words never corrected in this question
        (acronyms typed in capitals: "PTO" is no typo of "IPTO")."""
        corrections: list[tuple[str, str]] = []
        corrected: list[str] = []
        joined = self._join_split_words(words, corrections)
        for position, word in enumerate(joined):
            closest = () if word in as_typed else self._correct(word)
            fixed = closest[0] if closest else None
            if len(closest) > 1 and prefer is not None:
                fixed = prefer(closest, [w for i, w in enumerate(joined) if i != position])
            if fixed and fixed != word:
                corrections.append((word, fixed))
            corrected.append(fixed or word)
        return corrected, tuple(dict.fromkeys(corrections))

    def _join_split_words(
        self, words: Sequence[str], corrections: list[tuple[str, str]]
    ) -> list[str]:
        joined: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if i + 1 < len(words) and min(len(word), len(words[i + 1])) >= 3:
                both = word + words[i + 1]
                if both in self._surface and not (
                    stem(word) in self._corpus_stems and stem(words[i + 1]) in self._corpus_stems
                ):
                    corrections.append((f"{word} {words[i + 1]}", both))
                    joined.append(both)
                    i += 2
                    continue
            joined.append(word)
            i += 1
        return joined

    def _correct(self, word: str) -> tuple[str, ...]:
        """The corpus words closest to an unknown query word, equally close ones in the
        order candidates are gathered (by length, then alphabetically); none when none is
        close."""
        if (
            not TYPO_MIN_LENGTH <= len(word) <= TYPO_MAX_LENGTH
            or not word.isalpha()  # "q3", "zq291476xv": codes and numbers, not typos
            or is_stopword(word)
            or stem(word) in self._known_stems
            or word in self._keep  # "fros", "trls": acronyms, not typos
            or self._is_real_word(word)
        ):
            return ()
        if word in self._correction_cache:
            return self._correction_cache[word]
        stop = process.extractOne(
            word, STOPWORD_TYPO_TARGETS, scorer=DamerauLevenshtein.distance, score_cutoff=1
        )
        if stop is not None:  # "somthing", "waht", "thier": a stop word mistyped, no topic
            fixed: tuple[str, ...] = (stop[0],)
        else:
            candidates = self._candidates(len(word), word[0], word[-1])
            found = process.extract(
                word, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None
            )
            best = max((score for _, score, _ in found), default=None)
            fixed = tuple(w for w, score, _ in found if score == best)  # candidates' order
        if len(self._correction_cache) < CACHE_LIMIT:
            self._correction_cache[word] = fixed
        return fixed

    def _candidates(self, length: int, first: str, last: str) -> list[str]:
        key = (length, first, last)
        if key not in self._candidates_cache:
            found: dict[str, None] = {}
            for n in range(length - 2, length + 3):
                found.update(dict.fromkeys(self._by_first.get((n, first), ())))
                found.update(dict.fromkeys(self._by_last.get((n, last), ())))
            if len(self._candidates_cache) > CACHE_LIMIT // 2:
                self._candidates_cache.clear()
            self._candidates_cache[key] = list(found)
        return self._candidates_cache[key]
