"""Which playbook a question is about: named (title words, aliases, acronyms: ``names``) or
pointed at by its content words, scored over one BM25 document per playbook ("darpa",
"daguerreotype", "kremer" each point at one playbook)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bot.corpus import Playbook
from bot.search import bm25
from bot.search.names import PlaybookNames
from bot.search.tokens import fold, stem

MIN_COVERAGE = 0.5  # a playbook must contain half the topic words (by IDF) to answer
IDENTIFIED = 0.5  # content alone points at one playbook: its relevance is at least this...
RUNNER_UP = 0.8  # ...and the next playbook's at most this share of it
NAMED_BASE = 0.5  # a playbook named by title words: 0.5 + 0.5 x share of its title named


class PlaybookScorer:
    def __init__(
        self,
        playbooks: Sequence[Playbook],
        section_docs: bm25.Documents,
        idf: Mapping[str, float],
    ) -> None:
        """``section_docs``: each section's terms, in corpus order; ``idf``: per term."""
        self._n = len(playbooks)
        self._idf = idf
        sizes = np.array([len(p.sections) for p in playbooks], dtype=np.int64)
        starts = np.zeros(len(playbooks) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        self.doc_playbook = np.repeat(np.arange(len(playbooks), dtype=np.int64), sizes)
        self._starts = starts  # where each playbook's sections start, then the end
        self._bm25 = bm25.build(section_docs.grouped(starts))
        using: dict[str, int] = {}  # term -> how many playbooks use it
        if playbooks:
            frequencies = bm25.frequencies(self._bm25).tolist()
            using = dict(zip(section_docs.vocabulary, frequencies, strict=True))
        self.names = PlaybookNames(playbooks, self._uses, using)
        # a word more than a third of the playbooks use says nothing about which one is meant
        common = max(2, len(playbooks) // 3)
        self.general = frozenset(term for term, count in using.items() if count > common)

    def docs(self, playbook: int) -> np.ndarray:
        """The playbook's sections (document numbers): the candidates it names. Worked out
        when asked, not stored as one array per playbook (10,000 objects to unpickle)."""
        return np.arange(self._starts[playbook], self._starts[playbook + 1])

    def _uses(self, playbook: int, term: str) -> bool:
        if term not in self._bm25.vocab_dict:
            return False
        return bool((bm25.postings(self._bm25, term)[0] == playbook).any())

    def named(
        self, query_words: list[str], content: list[str]
    ) -> tuple[dict[int, float], set[str]]:
        """Playbooks the question names (→ strength) and the stems that named them."""
        named: dict[int, float] = {}
        stems: set[str] = set()
        for p, forms in self.names.named_by_forms(query_words).items():
            named[p] = 1.0
            stems.update(stem(fold(f)) for f in forms)
        for p, hits in self.names.title_hits(content).items():
            size = len(self.names.title_terms[p])
            if len(hits) >= min(2, size):
                named[p] = max(named.get(p, 0.0), NAMED_BASE + NAMED_BASE * len(hits) / size)
                stems.update(hits.values())
        return named, stems

    def scores(
        self, topic: list[str], named: Mapping[int, float], weights: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(playbook relevance 0..1, which playbooks may answer); ``weights``: how much each
        topic word counts towards coverage."""
        n = self._n
        relevance = np.zeros(n)
        eligible = np.zeros(n, dtype=bool)
        if topic:
            found = bm25.match(self._bm25, topic, weights, self._idf)
            relevance = found.dense(n, found.relevance)
            eligible = found.dense(n, found.coverage) >= MIN_COVERAGE
        if named:
            named_mask = np.zeros(n, dtype=bool)
            for p, strength in named.items():
                named_mask[p] = True
                relevance[p] = max(relevance[p], strength)
            eligible = named_mask  # naming a playbook narrows to it
        elif not topic:
            eligible = np.ones(n, dtype=bool)  # "/hubs pitfalls": every playbook's
        return relevance, eligible

    @staticmethod
    def identified(relevance: np.ndarray) -> np.ndarray:
        """The one playbook the content points at clearly (rare words concentrated in it, as
        "kremer auction" in *Patent Buyouts*), not common words spread over many."""
        mask = np.zeros(len(relevance), dtype=bool)
        if len(relevance) == 0:
            return mask
        first = int(np.argmax(relevance))  # the first of equals, as a stable sort's would be
        best = relevance[first]
        runner_up = float(np.partition(relevance, -2)[-2]) if len(relevance) > 1 else 0.0
        if best >= IDENTIFIED and runner_up <= RUNNER_UP * best:
            mask[first] = True
        return mask
