"""Reading one term's column of the BM25 index must give what bm25s itself scores."""

from __future__ import annotations

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
    model = bm25.build(docs)
    for term in {t for doc in docs for t in doc} - {""}:
        held, scores = bm25.postings(model, term)
        dense = np.zeros(len(docs))
        dense[held] = scores
        np.testing.assert_allclose(dense, model.get_scores([term]).astype(np.float64))
        assert sorted(held.tolist()) == [i for i, doc in enumerate(docs) if term in doc]


@settings(max_examples=100, derandomize=True, deadline=None)
@given(documents)
def test_a_match_says_which_documents_hold_each_term(docs: list[list[str]]) -> None:
    docs = [doc or [""] for doc in docs]
    model = bm25.build(docs)
    terms = sorted({t for doc in docs for t in doc} - {""})
    found = bm25.match(model, terms, dict.fromkeys(terms, 1.0), set(terms))
    for term in terms:
        assert [d for d in range(len(docs)) if found.holds(term, d)] == [
            i for i, doc in enumerate(docs) if term in doc
        ]
    assert found.docs.tolist() == [i for i, doc in enumerate(docs) if set(doc) & set(terms)]
    assert not found.holds("absent", 0)
