"""BM25 (bm25s, Lucene variant) per query term, so one pass gives both halves of a match: how
strongly each document holds the question's terms, and which share of them (by IDF) it holds.
Sections and whole playbooks are scored the same way."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np
from bm25s import scoring

# bm25s sets its own logger to DEBUG on import and logs every index build there; the search
# engine is imported lazily (after logging is configured), so quiet it here
logging.getLogger("bm25s").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Documents:
    """Documents as term ids, end to end in one array: what an index is built from, without
    a Python list (and a string per occurrence) for every document."""

    vocabulary: dict[str, int]  # term -> id
    ids: np.ndarray  # every document's term ids, in order
    bounds: np.ndarray  # where each document starts in ``ids``, then the end

    @classmethod
    def from_terms(cls, docs: Sequence[Sequence[str]]) -> Documents:
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(t, len(vocabulary)) for doc in docs for t in doc]
        bounds = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum([len(doc) for doc in docs], out=bounds[1:])
        return cls(vocabulary, np.array(ids, dtype=np.int32), bounds)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def grouped(self, bounds: np.ndarray) -> Documents:
        """Runs of consecutive documents as one document each (a playbook's sections):
        ``bounds`` says where each run starts, in documents, then the end."""
        return Documents(self.vocabulary, self.ids, self.bounds[bounds])


class _WholeArrayBM25(bm25s.BM25):
    """bm25s's index built with whole-array operations. bm25s builds it a document at a time
    (a Counter and a set intersection each: 1.4 s of a 3.2 s index build at 1,000
    playbooks); ``build_index_from_ids`` is the step its documentation invites overriding.
    This one applies bm25s's own formulas (its IDF array, its term-frequency component) to
    every (term, document) pair at once and lays the matrix out as bm25s's CSC does: the
    same matrix to the bit, which ``tests/test_bm25.py`` holds it to."""

    def build_index_from_ids(
        self,
        unique_token_ids: list[int],
        corpus_token_ids: list[Any],
        show_progress: bool = True,
        leave_progress: bool = False,
    ) -> dict[str, Any]:
        if self.method in self.methods_requiring_nonoccurrence:  # not the variant used here
            return super().build_index_from_ids(  # type: ignore[no-any-return]
                unique_token_ids, corpus_token_ids, show_progress, leave_progress
            )
        self.nonoccurrence_array = None  # as bm25s sets it for this variant
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.fromiter(map(len, corpus_token_ids), dtype=np.int64, count=n_docs)
        flat = np.concatenate([np.asarray(doc, dtype=np.int64) for doc in corpus_token_ids])
        owner = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # each (term, document) pair once with its count, sorted by term then document: the
        # order of a CSC matrix's entries
        pairs, tf = np.unique(flat * n_docs + owner, return_counts=True)
        cols, rows = np.divmod(pairs, n_docs)
        df = np.bincount(cols, minlength=n_vocab)
        token_ids = np.asarray(unique_token_ids, dtype=np.int64)
        idf = scoring._build_idf_array(
            doc_frequencies=dict(zip(unique_token_ids, df[token_ids].tolist(), strict=True)),
            n_docs=n_docs,
            compute_idf_fn=scoring._select_idf_scorer(self.idf_method),
            dtype=self.dtype,
        )
        tfc = scoring._select_tfc_scorer(self.method)(
            tf_array=tf.astype(self.dtype),
            l_d=lengths[rows],
            l_avg=lengths.mean(),
            k1=self.k1,
            b=self.b,
            delta=self.delta,
        )
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        return {
            "data": (idf[cols] * tfc).astype(self.dtype),
            "indices": rows.astype(self.int_dtype),
            "indptr": indptr,
            "num_docs": n_docs,
        }


def build(docs: Documents) -> bm25s.BM25:
    model = _WholeArrayBM25()
    if len(docs):
        start = int(docs.bounds[0])
        parts = np.split(docs.ids[start : int(docs.bounds[-1])], docs.bounds[1:-1] - start)
        model.index((parts, docs.vocabulary), create_empty_token=False, show_progress=False)
    return model


def frequencies(model: bm25s.BM25) -> np.ndarray:
    """How many documents hold each term (by id): its column's length."""
    return np.diff(model.scores["indptr"])


def postings(model: bm25s.BM25, term: str) -> tuple[np.ndarray, np.ndarray]:
    """The documents holding ``term`` and their BM25 scores for it: one column of the index's
    precomputed score matrix, as views into it (read-only to callers). bm25s's own
    ``get_scores`` adds columns into a dense vector with ``np.add.at``, ~0.8 ms a term at
    60,000 sections; one term's column needs no adding. Every stored score is positive (the
    Lucene variant's IDF and term-frequency part both are; ``tests/test_bm25.py`` holds the
    build to it), so no entry needs filtering out."""
    matrix = model.scores
    column = model.vocab_dict[term]
    start, end = int(matrix["indptr"][column]), int(matrix["indptr"][column + 1])
    return matrix["indices"][start:end], matrix["data"][start:end]


def holding(model: bm25s.BM25, term: str) -> np.ndarray:
    """The documents holding ``term``, in order: :func:`postings` without the scores."""
    return postings(model, term)[0]


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
        """Asked for the few sections shown: a binary search of the term's postings (sorted
        by document), where a scan cost ~50 µs for a common word at 10,000 playbooks."""
        held = self.holders.get(term)
        if held is None:
            return False
        at = int(held.searchsorted(doc))
        return at < len(held) and int(held[at]) == doc


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
