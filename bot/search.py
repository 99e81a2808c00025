"""Hybrid search over playbook sections: typo correction, BM25, and heading intent.

Scoring is a documented weighted sum, chosen over reciprocal-rank fusion because it gives an
absolute score that a "no match" threshold can be set against:

    score = W_HEADING * heading_intent + W_TEXT * coverage * bm25 / max(bm25)

* ``heading_intent`` (0..1): how strongly the question names a kind of section, found by
  matching 1- to 3-word spans of the question against the section headings in the corpus and
  the alias table (``pitfalls``/``risks`` -> *Potential pitfalls*, ...), exactly on stems or
  fuzzily with rapidfuzz.
* ``bm25`` (bm25s, Lucene variant) over title + heading (twice) + body, per query term, so the
  same vectors also give ``coverage``: the IDF-weighted share of the question's terms that the
  section contains. Coverage keeps a section that merely repeats one common word from winning.

Query words that are not in the corpus vocabulary are corrected to the closest corpus word
(rapidfuzz ``ratio``) before any of this. A question that names a playbook by its title narrows
the search to that playbook. Everything is computed once at start-up in :class:`Index`; a query
costs a few sparse-vector operations over the whole corpus.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

from bot.corpus import Corpus, Item, Playbook, Section
from bot.tokens import fold, is_stopword, stem, terms, words

log = logging.getLogger(__name__)

W_HEADING = 0.5
W_TEXT = 0.5
MIN_SCORE = 0.15
MIN_COVERAGE = 0.5  # a section with no heading intent must contain half the question (by IDF)
MAX_QUERY_WORDS = 40
MAX_ITEMS_PER_RESULT = 2
TYPO_MIN_LENGTH = 4
TYPO_MAX_LENGTH = 30
TYPO_CUTOFF = 80.0
PHRASE_CUTOFF = 88.0
GENERIC_ALIAS_STRENGTH = 0.6

DEFAULT_ALIASES: Mapping[str, Sequence[str]] = {
    "Potential pitfalls": (
        "pitfalls",
        "pitfall",
        "risks",
        "risk",
        "mistakes",
        "mistake",
        "failures",
        "failure",
        "what went wrong",
        "went wrong",
        "gone wrong",
        "lessons learned",
        "downsides",
        "dangers",
        "traps",
    ),
    "Case study": (
        "case study",
        "case studies",
        "cases",
        "case",
        "example",
        "examples",
        "real world",
    ),
    "Further readings": (
        "further reading",
        "reading",
        "readings",
        "links",
        "sources",
        "references",
        "resources",
        "bibliography",
        "more reading",
    ),
    "Contributors": (
        "who",
        "who wrote",
        "authors",
        "author",
        "contributors",
        "contributed",
        "credits",
        "written by",
    ),
    "When to use": ("when", "when to use", "why", "use cases", "use case", "useful"),
    "Key things to know": (
        "overview",
        "basics",
        "key things",
        "summary",
        "introduction",
        "intro",
        "what is",
        "tldr",
        "essentials",
        "key facts",
    ),
}
# Single everyday words that hint at a section but should not outweigh the question's content.
GENERIC_ALIASES = frozenset({"who", "when", "why", "what is", "case", "useful", "links"})

# With no other signal, a playbook's sections are offered in this order.
PREFERRED_HEADINGS = (
    "key things to know",
    "when to use",
    "case study",
    "potential pitfalls",
    "further readings",
    "contributors",
)


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


@dataclass(frozen=True, slots=True)
class _Phrase:
    heading: int  # index into Index._headings
    strength: float
    text: str


@dataclass
class _Intent:
    strength: dict[int, float] = field(default_factory=dict)
    phrase: dict[int, tuple[str, str]] = field(default_factory=dict)
    """heading -> (alias or heading matched, span as typed)"""

    def add(self, heading: int, strength: float, phrase: str, typed: str) -> None:
        if strength > self.strength.get(heading, 0.0):
            self.strength[heading] = strength
            self.phrase[heading] = (phrase, typed)

    def drop_spans_within(self, stems: set[str]) -> None:
        """Forget intents spelled only with these (title) words."""
        for heading, (_, typed) in list(self.phrase.items()):
            if all(stem(w) in stems for w in typed.split()):
                del self.strength[heading], self.phrase[heading]


class Index:
    """Everything a query needs, built once from a :class:`Corpus`."""

    def __init__(self, corpus: Corpus, aliases: Mapping[str, Sequence[str]] | None = None):
        self.corpus = corpus
        self.sections: tuple[Section, ...] = corpus.sections
        self._build_documents()
        self._build_headings(aliases if aliases is not None else DEFAULT_ALIASES)
        self._build_vocabulary()
        self._build_playbook_titles()

    @property
    def vocabulary_size(self) -> int:
        """Distinct corpus words available for typo correction."""
        return self._vocab_size

    # ------------------------------------------------------------------ build

    def _build_documents(self) -> None:
        docs: list[list[str]] = []
        self._item_terms: list[list[Counter[str]]] = []
        for section in self.sections:
            doc = terms(section.playbook_title) + terms(section.heading) * 2 + terms(section.text)
            docs.append(doc or [""])
            self._item_terms.append(
                [Counter(terms(f"{item.title or ''} {item.text}")) for item in section.items]
            )
        self._bm25 = bm25s.BM25()
        if docs:
            self._bm25.index(docs, show_progress=False)
        self._n_docs = len(docs)
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(doc))
        n = max(self._n_docs, 1)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._idf_unknown = math.log(1 + (n + 0.5) / 0.5)
        self._order = np.arange(self._n_docs)

    def _build_headings(self, aliases: Mapping[str, Sequence[str]]) -> None:
        keys: dict[str, int] = {}
        doc_heading = np.empty(self._n_docs, dtype=np.int64)
        for i, section in enumerate(self.sections):
            key = fold(section.heading)
            doc_heading[i] = keys.setdefault(key, len(keys))
        for canonical in aliases:
            keys.setdefault(fold(canonical), len(keys))
        self._headings = list(keys)
        self._doc_heading = doc_heading
        phrases: dict[str, _Phrase] = {}
        for key, heading_id in keys.items():
            phrases[key] = _Phrase(heading_id, 1.0, key)
        for canonical, alias_list in aliases.items():
            heading_id = keys[fold(canonical)]
            for alias in alias_list:
                folded = fold(alias)
                strength = GENERIC_ALIAS_STRENGTH if folded in GENERIC_ALIASES else 1.0
                phrases.setdefault(folded, _Phrase(heading_id, strength, folded))
        self._phrases_by_stem: dict[str, _Phrase] = {}
        for text, phrase in phrases.items():  # headings first, then aliases in table order
            self._phrases_by_stem.setdefault(" ".join(stem(w) for w in words(text)), phrase)
        self._phrases_by_length: dict[int, list[str]] = defaultdict(list)
        for text in phrases:
            self._phrases_by_length[len(text.split())].append(text)
        self._phrases = phrases
        rank = {h: r for r, h in enumerate(PREFERRED_HEADINGS)}
        self._heading_preference = (
            np.array(
                [rank.get(self._headings[h], len(rank)) for h in doc_heading], dtype=np.float64
            )
            if self._n_docs
            else np.zeros(0)
        )

    def _build_vocabulary(self) -> None:
        """Surface words of the corpus (and aliases), for typo correction, by length."""
        surface: set[str] = set()
        for section in self.sections:
            surface.update(words(f"{section.playbook_title} {section.heading} {section.text}"))
        for phrase in self._phrases:
            surface.update(phrase.split())
        self._known_stems = set(self._idf) | {stem(w) for p in self._phrases for w in p.split()}
        # Candidates for a typo share its length (±2) and its first or its last letter:
        # a typo rarely hits both ends, and this keeps each lookup to a few hundred words.
        self._vocab_size = 0
        self._vocab_by_first: dict[tuple[int, str], list[str]] = defaultdict(list)
        self._vocab_by_last: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in sorted(surface):
            if len(word) >= TYPO_MIN_LENGTH - 1 and word.isalpha():
                self._vocab_size += 1
                self._vocab_by_first[len(word), word[0]].append(word)
                self._vocab_by_last[len(word), word[-1]].append(word)
        self._candidates_cache: dict[tuple[int, str, str], list[str]] = {}
        self._correction_cache: dict[str, str | None] = {}

    def _build_playbook_titles(self) -> None:
        self._title_terms: list[set[str]] = []
        self._title_index: dict[str, list[int]] = defaultdict(list)
        self._playbook_docs: list[np.ndarray] = []
        start = 0
        for p, playbook in enumerate(self.corpus.playbooks):
            title_terms = set(terms(playbook.title))
            for alias in playbook.aliases:
                title_terms.update(terms(alias))
            self._title_terms.append(title_terms)
            for term in title_terms:
                self._title_index[term].append(p)
            self._playbook_docs.append(np.arange(start, start + len(playbook.sections)))
            start += len(playbook.sections)
        self._title_labels = [fold(p.title) for p in self.corpus.playbooks]

    # ------------------------------------------------------------------ query

    def search(self, query: str, limit: int = 3) -> SearchResponse:
        """Best sections for a question; never raises on odd input."""
        query = " ".join(query.split())
        all_words = words(query)
        notice = None
        if not all_words:
            return SearchResponse(
                query,
                (),
                suggestions=self._default_suggestions(),
                notice="empty" if not query else "no words I can search for",
            )
        if len(all_words) > MAX_QUERY_WORDS:
            all_words = all_words[:MAX_QUERY_WORDS]
            notice = f"long question: only its first {MAX_QUERY_WORDS} words were used"

        corrections: list[tuple[str, str]] = []
        corrected: list[str] = []
        for word in all_words:
            fixed = self._correct(word)
            if fixed and fixed != word:
                corrections.append((word, fixed))
            corrected.append(fixed or word)

        intent = self._heading_intent(corrected)
        content = [stem(w) for w in corrected if not is_stopword(w)]
        content_words = {stem(w): w for w in corrected if not is_stopword(w)}
        narrowed, title_terms = self._narrow(content)
        if narrowed is not None:
            content = [t for t in content if t not in title_terms]
        unique_terms = list(dict.fromkeys(content))

        if not unique_terms and not intent.strength and narrowed is None:
            return SearchResponse(
                query,
                (),
                tuple(dict.fromkeys(corrections)),
                suggestions=self._default_suggestions(),
                notice=notice or "only common words: add what the question is about",
            )

        if narrowed is not None:  # "open source program offices" names a playbook, not sources
            intent.drop_spans_within(title_terms)
        scores, coverage, present = self._text_scores(unique_terms)
        head = np.zeros(self._n_docs)
        for heading_id, strength in intent.strength.items():
            head[self._doc_heading == heading_id] = strength
        score = W_HEADING * head + W_TEXT * scores
        eligible = (head > 0) | (coverage >= MIN_COVERAGE)
        if narrowed is not None:
            mask = np.zeros(self._n_docs, dtype=bool)
            mask[self._playbook_docs[narrowed]] = True
            eligible &= mask
            if not (unique_terms or head.any()):
                # the question only names the playbook: offer its sections, overview first
                eligible = mask
                score = mask * (0.3 - 0.01 * self._heading_preference)
        score = np.where(eligible, score, 0.0)
        ranked = np.lexsort((self._order, -score))
        results = []
        for doc in ranked[:limit]:
            if score[doc] < MIN_SCORE:
                break
            results.append(
                self._result(
                    int(doc), float(score[doc]), unique_terms, present, intent, content_words
                )
            )
        corrections_t = tuple(dict.fromkeys(corrections))
        playbook = self.corpus.playbooks[narrowed] if narrowed is not None else None
        if not results:
            return SearchResponse(
                query, (), corrections_t, self._suggestions(query), playbook, notice
            )
        return SearchResponse(query, tuple(results), corrections_t, (), playbook, notice)

    # ------------------------------------------------------------------ parts

    def _correct(self, word: str) -> str | None:
        """The corpus word closest to an unknown query word, or None when none is close."""
        if (
            not TYPO_MIN_LENGTH <= len(word) <= TYPO_MAX_LENGTH
            or not word.isalpha()  # "q3", "zq291476xv": codes and numbers, not typos
            or is_stopword(word)
            or stem(word) in self._known_stems
            or word in self._phrases
        ):
            return None
        if word in self._correction_cache:
            return self._correction_cache[word]
        candidates = self._candidates(len(word), word[0], word[-1])
        match = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        fixed = match[0] if match else None
        if len(self._correction_cache) < 100_000:
            self._correction_cache[word] = fixed
        return fixed

    def _candidates(self, length: int, first: str, last: str) -> list[str]:
        key = (length, first, last)
        if key not in self._candidates_cache:
            found: dict[str, None] = {}
            for n in range(length - 2, length + 3):
                found.update(dict.fromkeys(self._vocab_by_first.get((n, first), ())))
                found.update(dict.fromkeys(self._vocab_by_last.get((n, last), ())))
            if len(self._candidates_cache) > 50_000:
                self._candidates_cache.clear()
            self._candidates_cache[key] = list(found)
        return self._candidates_cache[key]

    def _heading_intent(self, query_words: list[str]) -> _Intent:
        intent = _Intent()
        stems = [stem(w) for w in query_words]
        for n in (3, 2, 1):
            for start in range(len(query_words) - n + 1):
                span = " ".join(query_words[start : start + n])
                phrase = self._phrases_by_stem.get(" ".join(stems[start : start + n]))
                if phrase is not None:
                    intent.add(phrase.heading, phrase.strength, phrase.text, span)
                    continue
                if len(span) < 5 or all(is_stopword(w) for w in span.split()):
                    continue
                match = process.extractOne(
                    span,
                    self._phrases_by_length.get(n, ()),
                    scorer=fuzz.ratio,
                    score_cutoff=PHRASE_CUTOFF,
                )
                if match:
                    found = self._phrases[match[0]]
                    intent.add(found.heading, found.strength * match[1] / 100, found.text, span)
        return intent

    def _narrow(self, content: list[str]) -> tuple[int | None, set[str]]:
        """The playbook whose title the question names (two title words, or all of a short
        title), if exactly one fits best."""
        hits: Counter[int] = Counter()
        for term in set(content):
            for p in self._title_index.get(term, ()):
                hits[p] += 1
        best: list[tuple[float, int]] = []
        for p, count in hits.items():
            size = len(self._title_terms[p])
            if count >= min(2, size):
                best.append((count / size, p))
        if not best or len(self.corpus.playbooks) == 0:
            return None, set()
        best.sort(reverse=True)
        if len(best) > 1 and best[0][0] == best[1][0]:
            return None, set()
        p = best[0][1]
        # a question made only of title words is about the playbook, not a search for them
        return p, self._title_terms[p]

    def _text_scores(self, unique_terms: list[str]) -> tuple[np.ndarray, np.ndarray, dict]:
        """(relative BM25 x coverage, coverage, term -> docs-containing mask)."""
        total = np.zeros(self._n_docs, dtype=np.float64)
        covered = np.zeros(self._n_docs, dtype=np.float64)
        present: dict[str, np.ndarray] = {}
        idf_total = 0.0
        for term in unique_terms:
            idf = self._idf.get(term)
            if idf is None:
                idf_total += self._idf_unknown
                continue
            idf_total += idf
            vector = self._bm25.get_scores([term]).astype(np.float64)
            total += vector
            present[term] = vector > 0
            covered += idf * present[term]
        if idf_total == 0 or not present:
            zeros = np.zeros(self._n_docs)
            return zeros, zeros, present
        coverage = covered / idf_total
        top = total.max()
        relative = total / top if top > 0 else total
        return relative * coverage, coverage, present

    def _result(
        self,
        doc: int,
        score: float,
        unique_terms: list[str],
        present: dict[str, np.ndarray],
        intent: _Intent,
        content_words: dict[str, str],
    ) -> SearchResult:
        section = self.sections[doc]
        matched = tuple(t for t in unique_terms if t in present and present[t][doc])
        weights = {t: self._idf.get(t, 0.0) for t in matched}
        scored = []
        for position, counts in enumerate(self._item_terms[doc]):
            value = sum(w * (1 + math.log(counts[t])) for t, w in weights.items() if counts[t])
            if value > 0:
                scored.append((-value, position))
        scored.sort()
        if scored:
            items = tuple(section.items[p] for _, p in scored[:MAX_ITEMS_PER_RESULT])
        else:
            items = section.items
        phrase, typed = intent.phrase.get(int(self._doc_heading[doc]), (None, None))
        return SearchResult(
            section=section,
            score=round(score, 4),
            items=items,
            matched_terms=tuple(content_words.get(t, t) for t in matched),
            intent=phrase,
            intent_typed=typed if typed and typed != phrase else None,
        )

    def _suggestions(self, query: str) -> tuple[Section, ...]:
        """Up to three sections to offer after a miss: the overview of the playbooks whose
        titles look most like the question, then the corpus-wide defaults. Titles, not every
        section label: one fuzzy pass over 1,000 titles is ~1 ms, over 6,000 labels ~7 ms."""
        found = process.extract(
            fold(query), self._title_labels, scorer=fuzz.WRatio, limit=3, score_cutoff=60
        )
        picks: list[Section] = []
        for _, _, p in found:
            docs = self._playbook_docs[p]
            if len(docs):
                best = docs[np.argmin(self._heading_preference[docs])]
                picks.append(self.sections[int(best)])
        for section in self._default_suggestions():
            if len(picks) == 3:
                break
            if section not in picks:
                picks.append(section)
        return tuple(picks)

    def _default_suggestions(self) -> tuple[Section, ...]:
        if not self._n_docs:
            return ()
        ranked = np.lexsort((self._order, self._heading_preference))
        return tuple(self.sections[int(i)] for i in ranked[:3])


def build_index(corpus: Corpus, aliases: Mapping[str, Sequence[str]] | None = None) -> Index:
    index = Index(corpus, aliases)
    log.info(
        "index built",
        extra={"playbooks": len(corpus.playbooks), "sections": len(corpus.sections)},
    )
    return index
