"""Hybrid search over playbook sections: which playbook, which kind of section, which words.

Every playbook has much the same sections, so a question is read as two choices — which
playbook, which kind of section — plus the words that pin down a passage. A section's score is
a documented weighted sum, chosen over rank fusion because an absolute score can be held
against a "no match" threshold:

    score = W_PLAYBOOK · playbook + W_INTENT · intent + W_TEXT · text

* ``playbook`` (0..1): the question names the section's playbook (two title words or all of a
  short title, an alias, an acronym or short form: ``names.py``) → 0.5 + 0.5 · share of the
  title named, 1 for an acronym; otherwise BM25 over whole playbooks, relative to the best,
  times coverage (the IDF-weighted share of the topic words the playbook contains).
* ``intent`` (0..1): how strongly the question asks for this kind of section: a heading, an
  alias or a cue (``intent.py``).
* ``text`` (0..1): BM25 (bm25s, Lucene) of the section over the topic words that did not name
  the playbook, relative to the best section, times coverage.

Topic words are the question's words minus stop words, minus the words of matched aliases and
cues, minus words about the corpus itself (``page``, ``playbook``). Unknown words are first
corrected to the closest corpus word (rapidfuzz), except acronyms and short forms.

Answering rules: a question with topic words is answered only from playbooks that contain at
least half of them (by IDF) or that it names; a question without topic words only if it names
a section (``/hubs pitfalls``) or a playbook — a cue alone ("when is the next all-hands") is
not an answer, nor a section's name beside words the playbooks are not about ("key things to
know before my first day"). A question that names nothing needs a word far more frequent in
the playbooks than in English ("lottery"), or one no English word list has ("hsinchu"), or two
of its words side by side as in some playbook ("air force", "tax holiday"): "office",
"holiday" and "review" occur in playbooks, but "is the office open on the holiday monday" is
no question about them. Numbers are never such a word. A section needs some intent or text
match of its own. When a question names a playbook and nothing in it matches the rest, that
playbook's nearest sections are offered as a *partial* answer. Ties break on the usual
section order, then corpus order: deterministic.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np

from bot.corpus import Corpus, Section
from bot.search import bm25
from bot.search.english import DOMAIN_MIN, load_english
from bot.search.intent import META_WORDS, Intent, PhraseTable
from bot.search.playbooks import MIN_COVERAGE, PlaybookScorer
from bot.search.results import SearchResponse, SearchResult
from bot.search.section_words import read_all
from bot.search.semantic import Embedder
from bot.search.spelling import Speller
from bot.search.tokens import STOPWORDS, fold, is_stopword, stem, typed_acronyms, words

log = logging.getLogger(__name__)

W_PLAYBOOK = 0.25
W_INTENT = 0.38  # above W_TEXT: a section asked for by name beats one that merely has the words
W_TEXT = 0.37
MIN_SCORE = 0.12
MAX_QUERY_WORDS = 40
EVERYDAY_UNKNOWN_WEIGHT = 0.75
DOMAIN_FULL = 2.0  # a term this over-represented in the playbooks counts fully in coverage
# A word ~150x more frequent in the playbooks than in English ("lottery", "patent") alone is a
# reason to answer; one between DOMAIN_MIN (~7x: "office", "holiday", "review") and this only
# in a phrase the playbooks use. Chosen on the dev questions (224 + 50 off-topic): off-topic
# answered 20 -> 2 %, one paraphrase lost (at 3.0: 14 %, none lost). A word nobody knows (not
# English, not in the playbooks: "qbr", "reqs") is no such reason either: it can match
# nothing (dev, 392 + 110: off-topic answered 8 -> 6, no answer lost).
DOMAIN_STRONG = 5.0
PHRASE_DOCS = 64
PHRASE_SCAN = 4096
SPECIFICITY_FLOOR = 0.25
MAX_ITEMS_PER_RESULT = 2
PREFERENCE_STEP = 1e-4
OVERVIEW_PRIOR = 0.05
# Link lists and credits echo the names used elsewhere in a playbook ("E11 Bio | ...") without
# explaining them: their text counts this much unless the question asks for them.
REFERENCE_HEADINGS = ("further readings", "contributors")
REFERENCE_TEXT_WEIGHT = 0.4
# The semantic channel (an optional extra, semantic.py): cosine similarity of the question to
# each section. Below SEMANTIC_FLOOR everywhere, a question about no named playbook is off
# topic; at SEMANTIC_STRONG a section may answer without sharing a word (a paraphrase).
W_SEMANTIC = 0.15
SEMANTIC_FLOOR = 0.20
SEMANTIC_STRONG = 0.45

# With no other signal, a playbook's sections are offered in this order.
PREFERRED_HEADINGS = (
    "key things to know",
    "when to use",
    "case study",
    "potential pitfalls",
    "further readings",
    "contributors",
)


class Index:
    """Everything a query needs, built once from a :class:`Corpus`."""

    def __init__(
        self,
        corpus: Corpus,
        aliases: Mapping[str, Sequence[str]] | None = None,
        cues: Mapping[str, Sequence[str]] | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.corpus = corpus
        self.sections: tuple[Section, ...] = corpus.sections
        self._embedder = embedder
        self._vectors = (
            embedder.embed([f"{s.playbook_title}. {s.heading}. {s.text}" for s in self.sections])
            if embedder is not None and self.sections
            else None
        )
        docs, surface, term_counts = self._build_documents()
        self._playbooks = PlaybookScorer(corpus.playbooks, docs, self._idf)
        # words that are no topic: built once, not per question (a union per question was a
        # fifth of a query's time at 10,000 playbooks, whose names share ~6,000 forms)
        self._ignored = META_WORDS | self._playbooks.names.ambiguous
        self._doc_playbook = self._playbooks.doc_playbook
        self._phrases = PhraseTable.for_headings([s.heading for s in self.sections], aliases, cues)
        heading_ids = {h: i for i, h in enumerate(self._phrases.headings)}  # folded already
        self._doc_heading = np.array(
            [heading_ids[fold(s.heading)] for s in self.sections], dtype=np.int64
        )
        order = np.argsort(self._doc_heading, kind="stable")  # each heading's sections, sorted
        bounds = np.searchsorted(self._doc_heading[order], np.arange(len(heading_ids) + 1))
        self._docs_by_heading = [order[bounds[h] : bounds[h + 1]] for h in range(len(heading_ids))]
        self._text_weight = np.array(
            [
                REFERENCE_TEXT_WEIGHT if fold(s.heading) in REFERENCE_HEADINGS else 1.0
                for s in self.sections
            ]
        )
        rank = {h: r for r, h in enumerate(PREFERRED_HEADINGS)}
        self._heading_preference = np.array(
            [rank.get(fold(s.heading), len(rank)) for s in self.sections], dtype=np.float64
        )
        # offered after a miss when nothing is nearer: the same for every question
        usual_order = np.lexsort((np.arange(len(self.sections)), self._heading_preference))
        self._defaults = tuple(self.sections[int(i)] for i in usual_order[:3])
        for phrase in self._phrases.phrases:
            surface.update(phrase.split())
        english = load_english()
        surfaces: dict[str, set[str]] = {}
        for word in surface:
            surfaces.setdefault(stem(word), set()).add(word)
        self._domain = english.domain_weights(term_counts, surfaces)
        self._english = english
        self._speller = Speller(
            surface,
            corpus_stems=set(self._idf),
            phrase_stems=self._phrases.stems,
            keep=set(self._phrases.phrases) | self._playbooks.names.known_words,
            is_real_word=english.is_everyday,
        )

    @property
    def vocabulary_size(self) -> int:
        """Distinct corpus words available for typo correction."""
        return self._speller.vocabulary_size

    # ------------------------------------------------------------------ build

    def _build_documents(self) -> tuple[bm25.Documents, set[str], dict[str, int]]:
        """One tokenizer pass over the corpus: a section's document is its title, its heading
        (twice) and its items' terms; the items' terms are kept (as ids, end to end) for
        picking the items to quote. Returns (the section documents, the words as written —
        for typo correction —, each term's count in the corpus).

        The words are read by :mod:`~bot.search.section_words` (on two cores for a large
        corpus) and the stop words dropped by one mask afterwards."""
        vocabulary: dict[str, int] = {}  # term -> id
        word_ids = _WordIds(vocabulary)  # every word seen -> its term's id (-1: a stop word)
        read = read_all(self.sections, word_ids)
        every, lengths, items_per_section = read.ids, read.lengths, read.items
        segment_lengths = np.array(lengths, dtype=np.int64)
        doc_items = _starts(np.array(items_per_section, dtype=np.int64))
        # segment numbers of the heads: a section's head comes after the earlier sections'
        # heads and items
        heads = np.arange(len(self.sections), dtype=np.int64) + doc_items[:-1]
        in_item = np.ones(len(segment_lengths), dtype=bool)
        in_item[heads] = False
        kept = every != NOT_A_TERM
        # each segment's length with the stop words out
        kept_lengths = np.diff(_starts(kept)[_starts(segment_lengths)])
        self._item_terms = every[kept & np.repeat(in_item, segment_lengths)]
        self._item_bounds = _starts(kept_lengths[in_item])
        self._doc_items = doc_items
        sections_in_segments = np.append(heads, len(segment_lengths))
        doc_lengths = np.diff(_starts(kept_lengths)[sections_in_segments])
        # a section with nothing to search keeps its place with an empty term
        ids = every[kept]
        empty = np.flatnonzero(doc_lengths == 0)
        if len(empty):
            placeholder = vocabulary.setdefault("", len(vocabulary))
            ids = np.insert(ids, _starts(doc_lengths)[empty], placeholder)
            doc_lengths[empty] = 1
        surface: set[str] = set(META_WORDS)  # "playbok" is a typo of a non-topic word
        surface.update(word_ids)  # every word met, stop words too
        docs = bm25.Documents(vocabulary, ids, _starts(doc_lengths))
        self._vocabulary = vocabulary
        self._bm25 = bm25.build(docs)
        self._n_docs = len(docs)
        n = max(self._n_docs, 1)
        terms_by_id = list(vocabulary)
        df = bm25.frequencies(self._bm25).tolist() if len(docs) else []
        self._idf = {
            t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in zip(terms_by_id, df, strict=True)
        }
        self._idf_unknown = math.log(1 + (n + 0.5) / 0.5)
        counts = np.bincount(ids, minlength=len(vocabulary)).tolist()
        return docs, surface, dict(zip(terms_by_id, counts, strict=True))

    # ------------------------------------------------------------------ query

    def search(self, query: str, limit: int = 3, context: str = "") -> SearchResponse:
        """Best sections for a question; never raises on odd input. ``context``: what the
        conversation is about (a thread's first message): its words count as the question's
        topic, never as what kind of section is wanted ("@hubs who wrote this?")."""
        query = " ".join(query.split())
        all_words = words(query)
        notice = None
        if not all_words:
            return SearchResponse(
                query,
                (),
                suggestions=self._defaults,
                notice="empty" if not query else "no words I can search for",
            )
        if len(all_words) > MAX_QUERY_WORDS:
            all_words = all_words[:MAX_QUERY_WORDS]
            notice = f"long question: only its first {MAX_QUERY_WORDS} words were used"

        corrected, corrections_t = self._speller.correct(
            all_words, self._most_beside, {fold(typed) for typed in typed_acronyms(query)}
        )

        intent = self._phrases.match(corrected)
        ignored = self._ignored
        background = self._context_words(context, ignored)
        content = [stem(w) for w in corrected if not is_stopword(w) and w not in ignored]
        named, name_stems = self._playbooks.named(
            [*corrected, *background], [*content, *map(stem, background)]
        )
        if named:  # "tax credits" names a playbook: "credits" is not Contributors here
            intent.drop_spans_within(name_stems)
        topic_words = {
            stem(w): w
            for i, w in enumerate(corrected)
            if (i not in intent.used or stem(w) in name_stems)
            and not is_stopword(w)
            and w not in ignored
            and not self._unknown_number(w)
        }
        topic_words.update(
            {
                stem(w): w
                for w in background
                if stem(w) not in topic_words and not self._unknown_number(w)
            }
        )
        topic = [t for t in topic_words if t not in name_stems]
        everyday = {t for t in topic if self._english.is_everyday(topic_words[t])}

        # About the playbooks at all: a word they use far more often than everyday English
        # does ("office", "review" and "day" occur in some playbook, but are no reason to
        # answer), or one they lack that is no everyday word either ("okr", "qbr"): then
        # specific, but no reason to answer on its own (below). Everyday words they lack
        # ("lunch") stay, and count against coverage. A number is never such a reason: the
        # English list has no numbers, so every one the playbooks use looks specific to them
        # ("is parental leave 12 or 16 weeks").
        specific = [
            t
            for t in topic
            if not _has_digit(topic_words[t])
            and (
                self._domain[t] >= DOMAIN_MIN
                if t in self._idf
                else not self._english.is_word(topic_words[t])
            )
        ]
        if (
            specific
            and not named
            and not any(t in self._idf and self._domain[t] >= DOMAIN_STRONG for t in specific)
            and self._vectors is None  # the semantic extra has its own test (SEMANTIC_FLOOR)
            and not self._uses_a_phrase_of_the_playbooks(content)
        ):  # only moderately specific words or unknown ones, not as the playbooks use them
            specific = []
        # a section's name alone is a question ("pitfalls"); beside words the playbooks are
        # not about ("key things to know before my first day") it is about those words
        asks_only_a_section = intent.standalone and bool(intent.strength) and not topic
        weights = self._coverage_weights(topic, everyday)
        playbook, eligible_playbooks = self._playbooks.scores(topic, named, weights)
        found = bm25.match(self._bm25, topic, weights, self._idf)
        if not specific and not named and not asks_only_a_section:
            if any(t not in self._playbooks.general for t in topic):  # off topic: the nearest
                return SearchResponse(
                    query,
                    (),
                    corrections_t,
                    self._suggestions(found, intent, playbook),
                    None,
                    notice,
                )
            return SearchResponse(
                query,
                (),
                corrections_t,
                suggestions=self._defaults,
                notice=notice or "only common words: add what the question is about",
            )

        semantic = self._semantic_scores(corrected)
        if semantic is not None and topic and not named:
            if float(semantic.max()) < SEMANTIC_FLOOR:  # like nothing in the playbooks
                return SearchResponse(
                    query,
                    (),
                    corrections_t,
                    self._suggestions(found, intent, playbook),
                    None,
                    notice,
                )
            strong = semantic >= SEMANTIC_STRONG
            eligible_playbooks = eligible_playbooks.copy()
            eligible_playbooks[np.unique(self._doc_playbook[strong])] = True
        # the one playbook the content clearly points at: read only when found by content
        by_content = bool(topic) and not named
        identified = self._playbooks.identified(playbook) if by_content else None
        # Only sections that could be answers are scored: those holding a topic word, those of
        # a playbook named or clearly pointed at, and — for a bare "pitfalls" — those of the
        # kind asked for. Every other section fails the rules below whatever its score.
        candidates = self._candidates(found, topic, intent, named, identified, semantic)
        pb = self._doc_playbook[candidates]
        head = self._head_strength(intent)[self._doc_heading[candidates]]
        text = np.zeros(len(candidates))
        coverage = np.zeros(len(candidates))
        at = bm25.positions(candidates, self._n_docs)[found.docs]
        text[at] = found.relevance
        coverage[at] = found.coverage
        preference = self._heading_preference[candidates]
        prior = 0.0
        if not intent.strength:  # asked for no kind of section: the overview, when close
            prior = OVERVIEW_PRIOR * (preference == 0)
        text_weight = np.where(head > 0, 1.0, self._text_weight[candidates])
        score = (
            W_PLAYBOOK * playbook[pb]
            + W_INTENT * head
            + W_TEXT * text * text_weight
            + prior
            - PREFERENCE_STEP * preference
        )
        if semantic is not None:
            top = float(semantic.max())
            span = max(top - SEMANTIC_FLOOR, 1e-6)
            near = np.clip((semantic[candidates] - SEMANTIC_FLOOR) / span, 0.0, 1.0)
            score = score + W_SEMANTIC * near
        if not topic:  # a section or a playbook named, nothing else: the named kind
            own_match = head > 0
        elif named:  # within a named playbook, any match of its own
            own_match = (head > 0) | (text > 0)
        else:  # found by content: the section holds half the topic (by IDF), or the content
            # points at one playbook clearly and the section is the kind asked for
            assert identified is not None
            own_match = (coverage >= MIN_COVERAGE) | (identified[pb] & ((head > 0) | (text > 0)))
        if semantic is not None and topic:
            own_match = own_match | (semantic[candidates] >= SEMANTIC_STRONG)
        eligible = eligible_playbooks[pb] & own_match
        partial = False
        if not eligible.any() and named:  # the playbook was asked about: its nearest sections
            eligible = np.isin(pb, list(named))
            partial = bool(topic)
        # shown scores are a share of what this question could score at best (a bare
        # "pitfalls" can only match by intent): 1.00 is a perfect match of what was asked
        possible = (
            W_PLAYBOOK * bool(topic or named)
            + W_INTENT * bool(intent.strength)
            + W_TEXT * bool(topic)
            + (W_SEMANTIC if semantic is not None and topic else 0.0)
        )
        results = []
        if limit > 0:
            for position in best_first(score, np.flatnonzero(eligible), limit):
                if score[position] < MIN_SCORE and not partial:
                    break
                results.append(
                    self._result(
                        int(candidates[position]),
                        min(1.0, float(score[position]) / possible) if possible else 0.0,
                        topic,
                        found,
                        intent,
                        topic_words,
                    )
                )
        only = self.corpus.playbooks[next(iter(named))] if len(named) == 1 else None
        if not results:
            return SearchResponse(
                query, (), corrections_t, self._suggestions(found, intent, playbook), only, notice
            )
        return SearchResponse(
            query, tuple(results), corrections_t, (), only, notice, partial=partial
        )

    # ------------------------------------------------------------------ parts

    def _candidates(
        self,
        found: bm25.Match,
        topic: list[str],
        intent: Intent,
        named: Mapping[int, float],
        identified: np.ndarray | None,
        semantic: np.ndarray | None,
    ) -> np.ndarray:
        """Every section the answering rules could accept, sorted (corpus order)."""
        parts = [found.docs]
        parts.extend(self._playbooks.docs(p) for p in named)
        if not topic:
            parts.extend(self._docs_by_heading[h] for h in intent.strength)
        elif identified is not None:  # found by content
            parts.extend(self._playbooks.docs(int(p)) for p in np.flatnonzero(identified))
            if semantic is not None:
                parts.append(np.flatnonzero(semantic >= SEMANTIC_STRONG))
        return bm25.union(parts, self._n_docs)

    def _uses_a_phrase_of_the_playbooks(self, content: Sequence[str]) -> bool:
        """Whether two of the question's words (``content``: its stems, in order, stop and
        meta words aside) stand side by side as in some playbook ("air force", "tax holiday",
        "pitch day"): it speaks the playbooks' language. Not "the office is open on the
        holiday monday", whose words the playbooks use, but never together."""
        return any(
            a != b and self._adjacent(a, b)
            for a, b in itertools.pairwise(content)
            if a in self._vocabulary and b in self._vocabulary
        )

    def _adjacent(self, first: str, second: str) -> bool:
        """Whether some section has ``first`` right before ``second`` (stop words aside).
        Looked for in the first PHRASE_DOCS sections holding both, found among the first
        PHRASE_SCAN of the rarer word's: a phrase the playbooks use shows up long before
        that, and the cost stays flat with the corpus (two common words at 10,000 playbooks
        are each in ~50,000 sections)."""
        rarer, other = sorted(
            (bm25.holding(self._bm25, first), bm25.holding(self._bm25, second)), key=len
        )
        if not len(rarer):
            return False
        scanned = rarer[:PHRASE_SCAN]
        at = np.minimum(np.searchsorted(other, scanned), len(other) - 1)
        both = scanned[other[at] == scanned][:PHRASE_DOCS]
        if not len(both):
            return False
        starts = self._item_bounds[self._doc_items[both]]
        ends = self._item_bounds[self._doc_items[both + 1]]
        held = np.concatenate([self._item_terms[s:e] for s, e in zip(starts, ends, strict=True)])
        a, b = self._vocabulary[first], self._vocabulary[second]
        return bool(np.any((held[:-1] == a) & (held[1:] == b)))

    def _unknown_number(self, word: str) -> bool:
        """A number or measure no playbook uses ("2x", "16"): neither the question's topic nor
        a word the playbooks lack (it would count against every section's coverage)."""
        return _has_digit(word) and stem(word) not in self._idf

    def _most_beside(self, candidates: Sequence[str], others: Sequence[str]) -> str:
        """Of equally close typo corrections, the one most sections hold together with the
        question's other words ("sbir mils": *mills*, not *miles*); the first on a tie."""
        beside = [stem(w) for w in others if not is_stopword(w) and stem(w) in self._idf]
        if not beside:
            return candidates[0]
        near = bm25.union([bm25.postings(self._bm25, t)[0] for t in beside], self._n_docs)

        def together(word: str) -> int:
            term = stem(word)
            if term not in self._idf:
                return 0
            return int(np.count_nonzero(np.isin(bm25.postings(self._bm25, term)[0], near)))

        return max(candidates, key=together)

    def _head_strength(self, intent: Intent) -> np.ndarray:
        """How strongly the question asks for each heading (0 for the ones it does not)."""
        strength = np.zeros(len(self._phrases.headings))
        for heading_id, value in intent.strength.items():
            strength[heading_id] = value
        return strength

    def _context_words(self, context: str, ignored: frozenset[str]) -> list[str]:
        """The topic words of the conversation around a question: typo-corrected, without
        stop words and without the phrases that ask for a kind of section."""
        if not context.strip():
            return []
        corrected, _ = self._speller.correct(words(context)[:MAX_QUERY_WORDS])
        asked = self._phrases.match(corrected).used
        return [
            w
            for i, w in enumerate(corrected)
            if i not in asked and not is_stopword(w) and w not in ignored
        ]

    def _coverage_weights(self, topic: list[str], everyday: set[str]) -> dict[str, float]:
        """How much each topic word counts when asking which share of them a section or a
        playbook holds: its IDF times how specific to the playbooks it is ("office" little,
        "lottery" fully). A word no playbook uses counts against coverage: fully when rare
        ("okr": something the playbooks do not cover), less when everyday English ("play"
        in "what role did ITRI play": a question's filler, not its subject)."""
        weights = {}
        for t in topic:
            if t in self._idf:
                specific = min(1.0, max(SPECIFICITY_FLOOR, self._domain[t] / DOMAIN_FULL))
                weights[t] = self._idf[t] * specific
            else:
                weights[t] = self._idf_unknown * (EVERYDAY_UNKNOWN_WEIGHT if t in everyday else 1.0)
        return weights

    def _semantic_scores(self, query_words: list[str]) -> np.ndarray | None:
        if self._vectors is None or self._embedder is None:
            return None
        vector = self._embedder.embed([" ".join(query_words)])[0]
        return self._embedder.similarities(self._vectors, vector)

    def _result(
        self,
        doc: int,
        score: float,
        topic: list[str],
        found: bm25.Match,
        intent: Intent,
        topic_words: dict[str, str],
    ) -> SearchResult:
        section = self.sections[doc]
        matched = tuple(t for t in topic if found.holds(t, doc))
        weights = {t: self._idf.get(t, 0.0) for t in matched}
        value = self._item_relevance(doc, weights)
        held = [i for i, v in enumerate(value) if v > 0]
        if held:  # most relevant first, ties in the section's order
            best = sorted(held, key=lambda i: (-value[i], i))[:MAX_ITEMS_PER_RESULT]
            items = tuple(section.items[i] for i in best)
        else:
            items = section.items
        phrase, typed = intent.phrase.get(int(self._doc_heading[doc]), (None, None))
        return SearchResult(
            section=section,
            score=round(max(score, 0.0), 4),
            items=items,
            matched_terms=tuple(topic_words.get(t, t) for t in matched),
            intent=phrase,
            intent_typed=typed if typed and typed != phrase else None,
        )

    def _item_relevance(self, doc: int, weights: Mapping[str, float]) -> list[float]:
        """Each item of a section: the sum over the matched terms it holds of the term's weight
        times (1 + log of its count) — worked out for the few results shown, not at build.
        In plain Python over the section's terms: a section holds a few items of some
        hundred terms, where numpy's per-call cost was most of the work (54 µs a section on
        the seeds, 8 with lists)."""
        first, last = int(self._doc_items[doc]), int(self._doc_items[doc + 1])
        if not weights:
            return [0.0] * (last - first)
        bounds = self._item_bounds[first : last + 1].tolist()
        held = self._item_terms[bounds[0] : bounds[-1]].tolist()
        wanted = [(self._vocabulary[term], weight) for term, weight in weights.items()]
        value = []
        for start, end in itertools.pairwise(bounds):
            item = held[start - bounds[0] : end - bounds[0]]
            relevance = 0.0
            for term_id, weight in wanted:
                count = item.count(term_id)
                if count:
                    relevance += weight * (1 + math.log(count))
            value.append(relevance)
        return value

    def _suggestions(
        self, found: bm25.Match, intent: Intent, playbook: np.ndarray
    ) -> tuple[Section, ...]:
        """Up to three sections to offer after a miss, nearest first: those holding the most
        of the question's words, weighed as an answer would be with the kind of section
        asked for (below the bar to answer, but the nearest there are), then the corpus-wide
        defaults. (A fuzzy pass over every playbook title used to come in between: 3 ms at
        1,000 playbooks, 30 at 10,000, for what the typo-corrected words already find
        through the titles each section's document holds.)"""
        picks: list[Section] = []
        if len(found.docs):
            nearness = (
                W_TEXT * found.relevance + W_PLAYBOOK * playbook[self._doc_playbook[found.docs]]
            )
            if intent.strength:
                heads = self._head_strength(intent)[self._doc_heading[found.docs]]
                nearness = nearness + W_INTENT * heads
            nearest = best_first(nearness, np.flatnonzero(found.relevance), 3)
            picks.extend(self.sections[int(found.docs[d])] for d in nearest)
        for section in self._defaults:
            if len(picks) == 3:
                break
            if section not in picks:
                picks.append(section)
        return tuple(picks)


NOT_A_TERM = -1


class _WordIds(dict[str, int]):
    """Word → its term's id in ``vocabulary`` (stemmed once per distinct word), or
    :data:`NOT_A_TERM` for a stop word; filled in as words are met, so Python runs once per
    new word."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        super().__init__()
        self._vocabulary = vocabulary

    def __missing__(self, word: str) -> int:
        if word in STOPWORDS:
            found = NOT_A_TERM
        else:
            found = self._vocabulary.setdefault(stem(word), len(self._vocabulary))
        self[word] = found
        return found


def best_first(score: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best of ``candidates`` (document numbers) by score, ties in corpus order,
    without sorting the rest: a partition finds the k-th best score, and only the documents
    at or above it are sorted (all of them when they tie, as every *Potential pitfalls*
    section does for a bare "pitfalls")."""
    values = score[candidates]
    if len(values) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth
        candidates, values = candidates[keep], values[keep]
    return candidates[np.lexsort((candidates, -values))][:k]


def _has_digit(word: str) -> bool:
    return not word.isalpha() and any(c.isdigit() for c in word)  # isalpha: most, in C


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of these lengths starts, then the end."""
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    return bounds
