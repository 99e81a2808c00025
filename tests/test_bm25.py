"""The BM25 index must be bm25s's: built the same (to the bit), and one term's column read as
bm25s itself scores it."""

from __future__ import annotations

import bm25s
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.search import bm25

documents = st.lists(
    st.lists(st.sampled_from(["hub", "grant", "prize", "lab", "park", "tax"]), max_size=12),
    min_size=1,
    max_size=20,
)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(documents)
def test_a_terms_postings_are_bm25s_scores_for_it(docs: list[list[str]]) -> None:
    docs = [doc or [""] for doc in docs]
    model = bm25.build(bm25.Documents.from_terms(docs))
    for term in {t for doc in docs for t in doc} - {""}:
        held, scores = bm25.postings(model, term)
        dense = np.zeros(len(docs))
        dense[held] = scores
        np.testing.assert_allclose(dense, model.get_scores([term]).astype(np.float64))
        assert sorted(held.tolist()) == [i for i, doc in enumerate(docs) if term in doc]
        assert (scores > 0).all()  # postings are read as stored: no entry to filter out


@settings(max_examples=100, derandomize=True, deadline=None)
@given(documents)
def test_a_match_says_which_documents_hold_each_term(docs: list[list[str]]) -> None:
    docs = [doc or [""] for doc in docs]
    model = bm25.build(bm25.Documents.from_terms(docs))
    terms = sorted({t for doc in docs for t in doc} - {""})
    found = bm25.match(model, terms, dict.fromkeys(terms, 1.0), set(terms))
    for term in terms:
        assert [d for d in range(len(docs)) if found.holds(term, d)] == [
            i for i, doc in enumerate(docs) if term in doc
        ]
    assert found.docs.tolist() == [i for i, doc in enumerate(docs) if set(doc) & set(terms)]
    assert not found.holds("absent", 0)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(documents, st.integers(min_value=0, max_value=3))
def test_the_whole_array_build_is_bm25s_own_to_the_bit(docs: list[list[str]], cut: int) -> None:
    """Built from documents end to end (and from runs of them, as playbooks are of sections),
    the matrix is exactly the one bm25s's document-at-a-time build makes."""
    documents = bm25.Documents.from_terms([doc or [""] for doc in docs])
    groups = np.unique(np.array([0, min(cut, len(documents)), len(documents)]))
    for part in (documents, documents.grouped(groups)):
        ours = bm25.build(part)
        theirs = bm25s.BM25()
        start = int(part.bounds[0])
        ids = np.split(part.ids[start : int(part.bounds[-1])], part.bounds[1:-1] - start)
        theirs.index((ids, part.vocabulary), create_empty_token=False, show_progress=False)
        for key in ("data", "indices", "indptr"):
            assert ours.scores[key].dtype == theirs.scores[key].dtype
            np.testing.assert_array_equal(ours.scores[key], theirs.scores[key])
        assert ours.scores["num_docs"] == theirs.scores["num_docs"] == len(part)
        assert ours.vocab_dict == theirs.vocab_dict
