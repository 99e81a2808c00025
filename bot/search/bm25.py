"""BM25 (bm25s, Lucene variant) per query term, so one pass gives both halves of a match: how
strongly each document holds the question's terms, and which share of them (by IDF) it holds.
Sections and whole playbooks are scored the same way."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG on import and logs every index build there; the search
# engine is imported lazily (after logging is configured), so quiet it here
logging.getLogger("bm25s").setLevel(logging.WARNING)


def build(docs: list[list[str]]) -> bm25s.BM25:
    model = bm25s.BM25()
    if docs:
        model.index(docs, show_progress=False)
    return model


def postings(model: bm25s.BM25, term: str) -> tuple[np.ndarray, np.ndarray]:
    """The documents holding ``term`` and their BM25 scores for it: one column of the index's
    precomputed score matrix. bm25s's own ``get_scores`` adds columns into a dense vector with
    ``np.add.at``, ~0.8 ms a term at 60,000 sections; one term's column needs no adding."""
    matrix = model.scores
    column = model.vocab_dict[term]
    start, end = int(matrix["indptr"][column]), int(matrix["indptr"][column + 1])
    scores = matrix["data"][start:end].astype(np.float64)
    held = scores > 0
    return matrix["indices"][start:end][held], scores[held]


def union(parts: Sequence[np.ndarray], n_docs: int) -> np.ndarray:
    """The sorted document numbers in any of ``parts``: marked in one boolean per document,
    which is faster than sorting the parts' concatenation (np.unique) at any corpus size."""
    marked = np.zeros(n_docs, dtype=bool)
    for part in parts:
        marked[part] = True
    return np.flatnonzero(marked)


def positions(docs: np.ndarray, n_docs: int) -> np.ndarray:
    """Where each of ``docs`` sits in it, looked up by document number (a gather, where a
    binary search per document cost a millisecond for a common word at 60,000 sections).
    Only the entries of ``docs`` are meaningful."""
    at = np.empty(n_docs, dtype=np.int64)
    at[docs] = np.arange(len(docs))
    return at


@dataclass(frozen=True)
class Match:
    """How the documents holding any of a question's terms hold them — only those: a
    question costs its terms' postings, not the corpus's size. ``docs`` is sorted; the
    arrays beside it are per document in ``docs``."""

    docs: np.ndarray
    relevance: np.ndarray  # BM25 relative to the best document, times coverage
    coverage: np.ndarray  # share of the terms held, each counted with its weight
    holders: dict[str, np.ndarray]  # term -> the documents holding it (its postings)

    @classmethod
    def nothing(cls) -> Match:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), {})

    def dense(self, n_docs: int, values: np.ndarray) -> np.ndarray:
        """``values`` (per document in ``docs``) spread over all ``n_docs`` documents."""
        spread = np.zeros(n_docs)
        spread[self.docs] = values
        return spread

    def holds(self, term: str, doc: int) -> bool:
        """Asked for the few sections shown, so a scan of the postings, not a sort of every
        term's postings on every question (most matches are never asked)."""
        held = self.holders.get(term)
        return held is not None and bool((held == doc).any())


def match(
    model: bm25s.BM25,
    terms: Sequence[str],
    weights: Mapping[str, float],
    known: Container[str],
) -> Match:
    """Score ``terms`` against the documents holding them. Coverage counts each term with
    its weight in ``weights``; a term not in ``known`` (the corpus never uses it) counts
    against every document."""
    columns = {term: postings(model, term) for term in terms if term in known}
    if not columns:  # no term the corpus uses (or no corpus)
        return Match.nothing()
    n_docs = int(model.scores["num_docs"])
    docs = union([held for held, _ in columns.values()], n_docs)
    at = positions(docs, n_docs)
    total = np.zeros(len(docs))
    covered = np.zeros(len(docs))
    idf_total = 0.0
    for term in terms:
        idf_total += weights[term]
        if term in columns:
            holding, scores = columns[term]
            total[at[holding]] += scores  # a term's postings name each document once
            covered[at[holding]] += weights[term]
    if idf_total == 0:
        return Match.nothing()
    top = total.max()
    coverage = covered / idf_total
    relevance = (total / top if top > 0 else total) * coverage
    return Match(docs, relevance, coverage, {t: held for t, (held, _) in columns.items()})
