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
        vector = model.get_scores([term]).astype(np.float64)
        total += vector
        present[term] = vector > 0
        covered += weight * present[term]
    if idf_total == 0 or not present:
        zeros = np.zeros(n_docs)
        return zeros, zeros, present
    top = total.max()
    coverage = covered / idf_total
    return (total / top if top > 0 else total) * coverage, coverage, present
