"""Search behaviour on the seed corpus and on small corpora written for the test."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.corpus import Corpus, load_corpus
from bot.search import MAX_QUERY_WORDS, Index
from bot.search.index import searchable_text
from bot.search.tokens import fold, terms
from tests.conftest import REPO_ROOT, WritePlaybook, best


def top(index: Index, query: str) -> str:
    return best(index, query).heading


@pytest.mark.parametrize(
    ("query", "heading"),
    [
        ("pitfalls", "Potential pitfalls"),
        ("pitfals", "Potential pitfalls"),
        ("risks", "Potential pitfalls"),
        ("what went wrong with Silicon X?", "Potential pitfalls"),
        ("silicon wadi", "Potential pitfalls"),
        ("yozma", "Potential pitfalls"),
        ("case study china", "Case study"),
        ("china ai pilot zones", "Case study"),
        ("hangzhou", "Case study"),
        ("who wrote this", "Contributors"),
        ("who contributed", "Contributors"),
        ("further reading", "Further readings"),
        ("paul graham", "Further readings"),
        ("when to use", "When to use"),
        ("osceola semiconductor", "When to use"),
        ("basics", "Key things to know"),
        ("regional hubs pitfalls", "Potential pitfalls"),
    ],
)
def test_right_section_first(seed_index: Index, query: str, heading: str) -> None:
    assert top(seed_index, query) == heading


def test_typo_is_corrected_and_reported(seed_index: Index) -> None:
    response = seed_index.search("pitfals")
    assert response.results[0].reason == 'matched "pitfalls" (you typed "pitfals")'
    response = seed_index.search("chna pilot zones")
    assert response.corrections == (("chna", "china"),)
    assert response.corrected_query == "china pilot zones"
    assert response.results[0].section.heading == "Case study"


def test_best_items_are_the_matching_ones(seed_index: Index) -> None:
    result = seed_index.search("paul graham").results[0]
    assert [item.text for item in result.items] == ["Why Startup Hubs Work | Paul Graham"]
    result = seed_index.search("hangzhou").results[0]
    assert result.items[0].text.startswith("For example, after Hangzhou")


def test_heading_only_match_returns_the_whole_section(seed_index: Index) -> None:
    result = seed_index.search("further reading").results[0]
    assert len(result.items) == 6


def test_empty_query_gives_suggestions_not_results(seed_index: Index) -> None:
    for query in ("", "   ", "\t\n"):
        response = seed_index.search(query)
        assert response.no_match and response.notice == "empty"
        assert [s.heading for s in response.suggestions] == [
            "Key things to know",
            "When to use",
            "Case study",
        ]


def test_stop_words_only(seed_index: Index) -> None:
    response = seed_index.search("the and of it is")
    assert response.no_match
    assert response.notice is not None and "common words" in response.notice
    assert len(response.suggestions) == 3


def test_no_match_below_minimum_score(seed_index: Index) -> None:
    response = seed_index.search("quantum error correction")
    assert response.no_match
    assert 1 <= len(response.suggestions) <= 3


def test_huge_query_is_bounded(seed_index: Index) -> None:
    query = ("silicon wadi yozma " * 700)[:10_000]
    response = seed_index.search(query)
    assert response.results[0].section.heading == "Potential pitfalls"
    assert response.notice == f"long question: only its first {MAX_QUERY_WORDS} words were used"
    assert seed_index.search("x" * 10_000).no_match


@pytest.mark.parametrize(
    "query", ["🚀🔥", "💥 pitfalls 💥", "Zürich ümlaut", "中国 试点", "\x00\x1b[31m"]
)
def test_unicode_and_control_characters_never_raise(seed_index: Index, query: str) -> None:
    response = seed_index.search(query)
    assert response.query == " ".join(query.split())
    if "pitfalls" in query:
        assert response.results[0].section.heading == "Potential pitfalls"


def test_ordering_is_deterministic(seed_index: Index) -> None:
    first = [(r.section.key, r.score) for r in seed_index.search("hubs", limit=6).results]
    again = [(r.section.key, r.score) for r in seed_index.search("hubs", limit=6).results]
    assert first == again and len(first) > 1
    scores = [score for _, score in first]
    assert scores == sorted(scores, reverse=True)


def test_limit_is_respected(seed_index: Index) -> None:
    assert len(seed_index.search("hubs", limit=1).results) == 1


def test_naming_a_playbook_narrows_to_it(write_playbook: WritePlaybook) -> None:
    for title in ("Regional Innovation Hubs", "Open Source Program Offices"):
        write_playbook(
            f"{title.lower().replace(' ', '-')}.md",
            f"""
            ---
            title: {title}
            ---

            ## Key things to know

            - Funding matters for {title.lower()}.

            ## Potential pitfalls

            - Funding runs out.
            """,
        )
    index = Index(load_corpus([write_playbook.root]))  # type: ignore[attr-defined]
    both = index.search("pitfalls", limit=5)
    assert {r.section.playbook_title for r in both.results} == {
        "Regional Innovation Hubs",
        "Open Source Program Offices",
    }
    narrowed = index.search("open source program pitfalls", limit=5)
    assert (
        narrowed.playbook is not None and narrowed.playbook.title == "Open Source Program Offices"
    )
    assert [r.section.key for r in narrowed.results] == [
        "open-source-program-offices#potential-pitfalls"
    ]
    overview = index.search("open source program offices")
    assert overview.results[0].section.heading == "Key things to know"


def test_custom_aliases_extend_the_table(seed_corpus: Corpus) -> None:
    index = Index(seed_corpus, {"Potential pitfalls": ["gotchas"]})
    assert top(index, "gotchas") == "Potential pitfalls"


def test_empty_corpus_answers_no_match(tmp_path: Path) -> None:
    index = Index(load_corpus([tmp_path]))
    response = index.search("pitfalls")
    assert response.no_match and response.suggestions == ()


@pytest.mark.parametrize("text", ["🄐", "Zürich", "ß", "İstanbul", "ﬁ", "Ⅻ", "ＡＢＣ"])
def test_folding_is_idempotent(text: str) -> None:
    """A heading folded twice must be the same key (found by the message property test)."""
    assert fold(fold(text)) == fold(text)


def _fold_by_definition(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.text(max_size=40))
def test_fast_folding_is_the_defined_folding(text: str) -> None:
    """fold() skips the per-character loop (ASCII fast path, a translate table): same result."""
    assert fold(text) == _fold_by_definition(text)


@pytest.mark.parametrize("directory", [REPO_ROOT / "seeds", REPO_ROOT / "bench/quality/corpus"])
def test_items_hold_exactly_the_words_of_their_section(directory: Path) -> None:
    """The index tokenizes items only and builds each section's document from them."""
    for section in load_corpus([directory]).sections:
        from_items = Counter(t for item in section.items for t in terms(searchable_text(item)))
        assert from_items == Counter(terms(section.text)), section.key
