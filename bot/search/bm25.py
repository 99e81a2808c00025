"""BM25 (bm25s, Lucene variant) per query term, so one pass gives both halves of a match: how
strongly each document holds the question's terms, and which share of them (by IDF) it holds.
Sections and whole playbooks are scored the same way."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence

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


def match(
    model: bm25s.BM25,
    n_docs: int,
    terms: Sequence[str],
    weights: Mapping[str, float],
    known: Container[str],
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(BM25 relative to the best document × coverage, coverage, term → documents holding it).
    Coverage is the share of ``terms`` a document holds, each counted with its weight in
    ``weights``; a term not in ``known`` (the corpus never uses it) counts against every
    document."""
    total = np.zeros(n_docs, dtype=np.float64)
    covered = np.zeros(n_docs, dtype=np.float64)
    present: dict[str, np.ndarray] = {}
    idf_total = 0.0
    for term in terms:
        weight = weights[term]
        idf_total += weight
        if term not in known:
            continue
        docs, scores = postings(model, term)
        total[docs] += scores  # a term's postings name each document once
        present[term] = np.zeros(n_docs, dtype=bool)
        present[term][docs] = True
        covered[docs] += weight
    if idf_total == 0 or not present:
        zeros = np.zeros(n_docs)
        return zeros, zeros, present
    top = total.max()
    coverage = covered / idf_total
    return (total / top if top > 0 else total) * coverage, coverage, present
