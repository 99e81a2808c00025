"""Search behaviour on the seed corpus and on small corpora written for the test.

The second half states the ranking guarantees, each on a small corpus the test builds itself
(no shared index), so that a change anywhere in building or querying the index fails the test
that states the promise: it is what the mutation run of the search ranking
(``bench/mutation.sh bot.search.index``) holds the code to."""

from __future__ import annotations

import logging
import math
import os
import pickle
import re
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.corpus import Corpus, load_corpus
from bot.search import MAX_QUERY_WORDS, Index, section_words
from bot.search.english import word_key, word_keys
from bot.search.index import best_first
from bot.search.names import clippings, short_forms
from bot.search.section_words import searchable_text
from bot.search.tokens import fold, join_ampersands, stem, terms, words
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


def test_a_section_with_no_searchable_word_keeps_every_other_in_place(
    write_playbook: WritePlaybook,
) -> None:
    """A section of stop words only ("What It Is" › "Why") is a document of one empty term:
    the sections after it keep their own documents and items."""
    write_playbook(
        "what-it-is.md",
        "---\ntitle: What It Is\n---\n\n## Why\n\nIt is what it is.\n\n"
        "## Potential pitfalls\n\n- Nobody reads the charter.\n- Budgets lapse in March.\n",
    )
    write_playbook(
        "lotteries.md",
        "---\ntitle: Grant Lotteries\n---\n\n## Why\n\n- Reviews are costly.\n\n"
        "## Potential pitfalls\n\n- Applicants game the draw.\n- Budgets lapse in June.\n",
    )
    index = Index(load_corpus([write_playbook.root]))  # type: ignore[attr-defined]
    lapse = index.search("budgets lapse june", limit=5)
    assert lapse.results[0].section.key == "lotteries#potential-pitfalls"
    assert [item.text for item in lapse.results[0].items] == ["Budgets lapse in June."]
    charter = index.search("charter pitfalls")
    assert charter.results[0].section.key == "what-it-is#potential-pitfalls"
    assert [item.text for item in charter.results[0].items] == ["Nobody reads the charter."]
    assert index.search("costly reviews").results[0].section.key == "lotteries#why"


def same_index(one: Index, other: Index) -> None:
    assert one._vocabulary == other._vocabulary  # the same terms, numbered alike
    assert np.array_equal(one._item_terms, other._item_terms)
    assert np.array_equal(one._item_bounds, other._item_bounds)
    assert np.array_equal(one._bm25.scores["data"], other._bm25.scores["data"])
    assert one.vocabulary_size == other.vocabulary_size
    for query in ("pitfalls", "case study china", "silicon x what went wrong", "chna", "lottery"):
        assert one.search(query) == other.search(query)


def test_the_index_is_the_same_whatever_words_it_holds_at_once(
    seed_corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words are looked up a chunk of sections at a time: where the chunks end changes
    nothing (one word a chunk, as against the whole seed corpus in one)."""
    whole = Index(seed_corpus)
    monkeypatch.setattr(section_words, "WORDS_PER_CHUNK", 1)
    same_index(Index(seed_corpus), whole)


@pytest.fixture(scope="module")
def evaluation_corpus() -> Corpus:
    return load_corpus([REPO_ROOT / "bench" / "quality" / "corpus"])


def helpers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The word-reading helper forced on any corpus (pytest's own threads ignored): the
    pids of the helpers forked."""
    forked: list[int] = []
    real_fork = os.fork

    def counted_fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(section_words, "HELPER_MIN_SECTIONS", 1)
    monkeypatch.setattr(section_words.os, "fork", counted_fork)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    return forked


def break_reading(monkeypatch: pytest.MonkeyPatch, in_helper: bool, error: Exception) -> None:
    """``read_words`` raises ``error`` in the helper, or in this process."""
    parent = os.getpid()
    real_read = section_words.read_words

    def breaking(sections, numbers):  # type: ignore[no-untyped-def]
        if (os.getpid() != parent) == in_helper:
            raise error
        return real_read(sections, numbers)

    monkeypatch.setattr(section_words, "read_words", breaking)


def test_words_read_on_two_cores_make_the_same_index(
    evaluation_corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large corpus's second half is read by a forked helper that numbers its words
    itself: renumbered here, its terms come in the corpus's order, and the index is the one
    read on one core (here forced on the 78-section evaluation corpus)."""
    one_core = Index(evaluation_corpus)
    forked = helpers(monkeypatch)
    two_cores = Index(evaluation_corpus)
    assert len(forked) == 1
    same_index(two_cores, one_core)


def test_a_failing_helper_leaves_its_half_to_be_read_here(
    evaluation_corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_core = Index(evaluation_corpus)
    helpers(monkeypatch)
    break_reading(monkeypatch, in_helper=True, error=RuntimeError("helper broke"))
    same_index(Index(evaluation_corpus), one_core)


def test_a_build_that_fails_does_not_leave_its_helper_behind(
    evaluation_corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper writes more than a pipe holds: if this process stopped reading (its own
    half failed), the helper would block on the pipe for ever."""
    forked = helpers(monkeypatch)
    break_reading(monkeypatch, in_helper=False, error=MemoryError("the first half broke"))
    with pytest.raises(MemoryError):
        Index(evaluation_corpus)
    assert len(forked) == 1
    assert not Path(f"/proc/{forked[0]}").exists()  # exited and reaped


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


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.text(max_size=40) | st.text(st.characters(max_codepoint=127), max_size=40))
def test_words_of_ascii_text_are_the_unicode_patterns_words(text: str) -> None:
    """ASCII text is split by a plain [A-Za-z0-9] pattern: the same words as \\w minus _."""
    folded = join_ampersands(fold(text))
    assert words(text) == re.findall(r"[^\W_]+", folded)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=30))
def test_word_keys_in_bulk_are_each_words_key(written: list[str]) -> None:
    """The English list is keyed in bulk on a first start; lookups key one word at a time."""
    assert word_keys(written).tolist() == [word_key(word) for word in written]


@pytest.mark.parametrize("directory", [REPO_ROOT / "seeds", REPO_ROOT / "bench/quality/corpus"])
def test_items_hold_exactly_the_words_of_their_section(directory: Path) -> None:
    """The index tokenizes items only and builds each section's document from them."""
    for section in load_corpus([directory]).sections:
        from_items = Counter(
            t for item in section.items for t in terms(searchable_text(item.title, item.text))
        )
        assert from_items == Counter(terms(section.text)), section.key


# ================================================================ ranking guarantees
# Each test below builds its own index over playbooks given as title → heading → bullets.

KEY, WHEN, CASE = "Key things to know", "When to use", "Case study"
PITFALLS, READING, WHO = "Potential pitfalls", "Further readings", "Contributors"


def slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def build(
    write_playbook: WritePlaybook,
    playbooks: dict[str, dict[str, list[str]]],
    **options: object,
) -> Index:
    """An index over playbooks given as title → heading → bullets, headings in file order."""
    for title, sections in playbooks.items():
        body = "\n".join(
            f"## {heading}\n\n" + "".join(f"- {bullet}\n" for bullet in bullets)
            for heading, bullets in sections.items()
        )
        write_playbook(f"{slug(title)}.md", f"---\ntitle: {title}\n---\n\n{body}")
    return Index(load_corpus([write_playbook.root]), **options)  # type: ignore[attr-defined]


def keys(index: Index, question: str, limit: int = 3, context: str = "") -> list[str]:
    return [r.section.key for r in index.search(question, limit, context).results]


def key(title: str, heading: str) -> str:
    return f"{slug(title)}#{slug(heading)}"


# ---------------------------------------------------------------- section order and defaults


def test_naming_only_a_playbook_offers_its_sections_in_the_usual_order(
    write_playbook: WritePlaybook,
) -> None:
    """The overview first, then the usual order of sections, whatever the file's order; a
    heading of the playbook's own comes after the usual ones."""
    title = "Zorblat Funds"
    index = build(
        write_playbook,
        {
            title: {
                "Budget notes": ["Money for the zorblat."],
                WHO: ["Written by a person."],
                PITFALLS: ["It can fail."],
                CASE: ["One story."],
                KEY: ["The basics."],
                WHEN: ["Sometimes."],
            }
        },
    )
    response = index.search("zorblat funds", limit=10)
    assert [r.section.heading for r in response.results] == [
        KEY,
        WHEN,
        CASE,
        PITFALLS,
        WHO,
        "Budget notes",
    ]
    scores = [r.score for r in response.results]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 1.0  # the overview's small lead does not lift it past a perfect match
    assert response.playbook is not None and response.playbook.title == title
    assert response.partial is False


def test_an_empty_question_is_offered_the_usual_first_sections(
    write_playbook: WritePlaybook,
) -> None:
    """Exactly three suggestions: every playbook's overview in corpus order, then the next
    kind of section; no results, never a missing section."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {PITFALLS: ["Alpha risk."], WHEN: ["Alpha when."], KEY: ["Alpha."]},
            "Beta Prizes": {KEY: ["Beta."], CASE: ["Beta story."]},
        },
    )
    for question in ("", "?!"):
        response = index.search(question)
        assert response.results == ()
        assert [s.key for s in response.suggestions] == [
            key("Alpha Grants", KEY),
            key("Beta Prizes", KEY),
            key("Alpha Grants", WHEN),
        ]


def test_suggestions_after_a_miss_are_the_nearest_three(write_playbook: WritePlaybook) -> None:
    """A question below the bar is offered the sections holding most of its words, nearest
    first, topped up with the usual first sections; three at most, never a missing one."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {
                KEY: ["Alpha basics."],
                WHEN: ["Alpha timing."],
                CASE: ["The quasar story, with a quasar and a quasar."],
                PITFALLS: ["A quasar once."],
            },
            "Beta Prizes": {
                KEY: ["Beta basics."],
                CASE: ["Two quasar mentions: quasar."],
                PITFALLS: ["Beta risk."],
            },
        },
    )
    # "quasar" alone would answer; drowned in words no playbook uses, it is a miss
    response = index.search("quasar zeppelin walrus giraffe trombone lighthouse")
    assert response.no_match
    assert [s.key for s in response.suggestions] == [
        key("Alpha Grants", CASE),
        key("Beta Prizes", CASE),
        key("Alpha Grants", PITFALLS),
    ]
    # one section holding the word: it, then the usual first sections
    one = index.search("basics zeppelin walrus giraffe trombone lighthouse")
    assert one.no_match
    assert [s.key for s in one.suggestions] == [
        key("Alpha Grants", KEY),
        key("Beta Prizes", KEY),
        key("Alpha Grants", WHEN),
    ]


# ---------------------------------------------------------------- aliases and acronyms


def test_an_alias_from_the_config_names_its_section(write_playbook: WritePlaybook) -> None:
    playbooks = {"Alpha Grants": {KEY: ["Alpha basics."], PITFALLS: ["Alpha can fail."]}}
    index = build(write_playbook, playbooks, aliases={PITFALLS: ["landmines"]})
    result = index.search("alpha grants landmines").results[0]
    assert (result.section.heading, result.intent) == (PITFALLS, "landmines")


def test_an_acronym_is_not_corrected_into_a_corpus_word(write_playbook: WritePlaybook) -> None:
    """ "fros" is Focused Research Organizations, not a typo of "frost", "from" or "for"."""
    index = build(
        write_playbook,
        {
            "Focused Research Organizations": {
                KEY: ["Teams from outside academia, for a set time."],
                PITFALLS: ["Money from one donor runs out."],
            },
            "Science Parks": {
                KEY: ["Land from the city, cleared of frost."],
                PITFALLS: ["Empty buildings."],
            },
        },
    )
    response = index.search("fros pitfalls")
    assert response.corrections == ()
    assert keys(index, "fros pitfalls") == [key("Focused Research Organizations", PITFALLS)]


@pytest.mark.parametrize(
    ("word", "term"),
    [
        ("trls", "trl"),
        ("stps", "stp"),
        ("pms", "pm"),
        ("sbirs", "sbir"),  # Snowball's own rule: a vowel before
        ("bus", "bus"),
        ("gas", "gas"),
        ("ms", "ms"),  # too short to be a plural acronym
        ("psss", "psss"),
    ],
)
def test_an_acronyms_plural_is_its_singular(word: str, term: str) -> None:
    assert stem(word) == term


def test_an_acronym_defined_in_the_text_is_found_in_the_plural(
    write_playbook: WritePlaybook,
) -> None:
    """ "STPs": the plural of the "(STP)" a playbook defines, not a typo of "stops"."""
    index = build(
        write_playbook,
        {
            "Science Parks": {
                KEY: ["The umbrella term is science and technology park (STP)."],
                PITFALLS: ["Buses stop running at night."],
            },
            "Fast Grants": {KEY: ["Decisions within two weeks."], PITFALLS: ["Bus stops."]},
        },
    )
    response = index.search("STPs - key things to know?")
    assert response.corrections == ()
    assert keys(index, "STPs - key things to know?") == [key("Science Parks", KEY)]


def test_equally_close_corrections_are_told_apart_by_the_rest_of_the_question(
    write_playbook: WritePlaybook,
) -> None:
    """ "mils" is as close to "mills" as to "miles": the word found beside the question's
    other words wins, whichever comes first alphabetically."""
    index = build(
        write_playbook,
        {
            "Zorblat Towns": {PITFALLS: ["The zorblat mills closed."]},
            "Quux Roads": {PITFALLS: ["The quux roads ran for miles."]},
        },
    )
    assert index.search("the zorblat mils").corrections == (("mils", "mills"),)
    assert index.search("quux mils").corrections == (("mils", "miles"),)
    assert keys(index, "zorblat mils")[0] == key("Zorblat Towns", PITFALLS)
    # nothing to go by: the speller's fixed order (by length, then alphabetical), every time
    assert index.search("mils").corrections == (("mils", "miles"),)
    assert index.search("mils please").corrections == (("mils", "miles"),)


# ---------------------------------------------------------------- what a result quotes


def test_a_result_quotes_the_items_holding_the_words_best_first(
    write_playbook: WritePlaybook,
) -> None:
    """At most two items, the one repeating the question's word before the one mentioning it
    once, items without it left out; the words found are the reason given."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {
                KEY: ["Alpha basics."],
                CASE: [
                    "Nothing relevant here.",
                    "A quasar appeared once.",
                    "Quasar after quasar after quasar.",
                    "Still nothing.",
                    "Another quasar.",
                ],
            },
            "Beta Prizes": {KEY: ["Beta basics."], CASE: ["Beta story."]},
        },
    )
    result = index.search("quasar").results[0]
    assert result.section.key == key("Alpha Grants", CASE)
    assert [item.text for item in result.items] == [
        "Quasar after quasar after quasar.",
        "A quasar appeared once.",
    ]
    assert result.matched_terms == ("quasar",)
    assert result.reason == "words: quasar"


def test_an_item_holding_more_of_the_question_is_quoted_first(
    write_playbook: WritePlaybook,
) -> None:
    """Each matched word adds to an item's weight: both words once outweigh one word twice."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {
                KEY: ["Alpha basics."],
                CASE: ["Quasar after quasar.", "A quasar beside a nebula.", "Only a nebula."],
            },
            "Beta Prizes": {KEY: ["Beta basics."], CASE: ["Beta story."]},
        },
    )
    result = index.search("quasar nebula").results[0]
    assert [item.text for item in result.items] == [
        "A quasar beside a nebula.",
        "Quasar after quasar.",
    ]


def test_a_typo_of_a_word_only_the_title_uses_is_corrected(write_playbook: WritePlaybook) -> None:
    index = build(
        write_playbook,
        {
            "Quixotic Funds": {KEY: ["Money for long shots."], PITFALLS: ["It can fail."]},
            "Beta Prizes": {KEY: ["Beta basics."], PITFALLS: ["Beta can fail."]},
        },
    )
    response = index.search("quixotik funds pitfalls")
    assert response.corrections == (("quixotik", "quixotic"),)
    assert keys(index, "quixotik funds pitfalls")[0] == key("Quixotic Funds", PITFALLS)


def test_shown_scores_are_shares_of_the_best_possible(write_playbook: WritePlaybook) -> None:
    """1.0 is a perfect match of what was asked; a weaker match scores less, but above 0;
    four decimals at most."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {
                KEY: ["Alpha basics."],
                CASE: ["The quasar and the nebula, quasar and nebula."],
                PITFALLS: ["A nebula, once, among many other words of no interest."],
            },
            "Beta Prizes": {KEY: ["Beta basics."], CASE: ["Beta story."]},
        },
    )
    results = index.search("quasar nebula", limit=3).results
    assert [r.section.key for r in results] == [
        key("Alpha Grants", CASE),
        key("Alpha Grants", PITFALLS),
    ]
    assert results[0].score == pytest.approx(1.0, abs=0.001)  # less the usual-order step
    assert 0.0 < results[1].score < 0.9
    assert all(r.score == round(r.score, 4) for r in results)


# ---------------------------------------------------------------- best_first


def test_best_first_returns_exactly_k_in_score_order_ties_in_corpus_order() -> None:
    score = np.array([0.2, 0.9, 0.5, 0.9, 0.1, 0.5, 0.7])
    everyone = np.arange(len(score))
    assert best_first(score, everyone, 3).tolist() == [1, 3, 6]
    assert best_first(score, everyone, 5).tolist() == [1, 3, 6, 2, 5]
    assert best_first(score, everyone, 10).tolist() == [1, 3, 6, 2, 5, 0, 4]
    assert best_first(score, np.array([5, 2, 0]), 2).tolist() == [2, 5]
    assert best_first(score, np.array([], dtype=np.int64), 3).tolist() == []


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_limit_k_returns_k_distinct_sections_in_score_order(
    write_playbook: WritePlaybook, limit: int
) -> None:
    index = build(
        write_playbook,
        {
            title: {KEY: [f"{title} basics."], PITFALLS: [f"{title} can fail."]}
            for title in ("Alpha Grants", "Beta Prizes", "Gamma Parks", "Delta Labs", "Eta Funds")
        },
    )
    results = index.search("pitfalls", limit=limit).results
    assert len({r.section.key for r in results}) == len(results) == limit
    assert [r.section.playbook_title for r in results] == [
        "Alpha Grants",
        "Beta Prizes",
        "Delta Labs",
        "Eta Funds",
    ][:limit]
    assert index.search("pitfalls", limit=0).results == ()


# ---------------------------------------------------------------- coverage: half the topic


SKY = {
    "Alpha Grants": {
        KEY: ["Alpha basics."],
        CASE: ["The quasar, the nebula and the pulsar."],
        PITFALLS: ["A nebula risk."],
    },
    "Beta Prizes": {KEY: ["Beta basics."], CASE: ["Beta story."], PITFALLS: ["Beta risk."]},
}


def test_a_rare_unknown_word_counts_fully_against_an_answer_an_everyday_one_less(
    write_playbook: WritePlaybook,
) -> None:
    """A section must hold half the question's topic words, by IDF. A word no playbook uses
    counts against that share: fully when it is no everyday word ("zxqvor": something the
    playbooks do not cover), less when it is ("lunch": filler). Here "quasar" and "nebula"
    weigh a little less than one unknown word, so the rare one tips the question below half
    and the everyday one does not; a third matching word ("pulsar") tips it back."""
    index = build(write_playbook, SKY)
    assert keys(index, "quasar nebula zxqvor") == []
    assert keys(index, "quasar nebula lunch") == [
        key("Alpha Grants", CASE),
        key("Alpha Grants", PITFALLS),
    ]
    assert keys(index, "quasar nebula pulsar zxqvor") == [
        key("Alpha Grants", CASE),
        key("Alpha Grants", PITFALLS),
    ]
    assert keys(index, "quasar lunch") == []


def test_the_thread_gives_topic_words_not_its_stop_words_or_section_names(
    write_playbook: WritePlaybook,
) -> None:
    """The thread's words are the question's topic ("what went wrong?" — with what?); its
    stop words and the names of sections it mentions ("risks", "mistakes") are not."""
    index = build(write_playbook, SKY)
    about = "the quasar, its risks and mistakes, and the nebula"
    response = index.search("what went wrong?", context=about)
    assert [(r.section.key, r.matched_terms) for r in response.results] == [
        (key("Alpha Grants", PITFALLS), ("nebula",)),
        (key("Alpha Grants", CASE), ("quasar", "nebula")),
    ]
    assert response.results[0].intent == "went wrong"
    assert index.search("what went wrong?").no_match


def test_the_reason_names_the_words_as_typed_and_the_section_name_matched(
    write_playbook: WritePlaybook,
) -> None:
    index = build(write_playbook, SKY)
    result = index.search("quasars nebulas").results[0]
    assert result.matched_terms == ("quasars", "nebulas")
    assert result.reason == "words: quasars, nebulas"
    exact = index.search("pitfalls").results[0]
    assert (exact.intent, exact.intent_typed, exact.reason) == (
        "pitfalls",
        None,
        'matched "pitfalls"',
    )
    typo = index.search("pitfals").results[0]
    assert (typo.intent, typo.intent_typed) == ("pitfalls", "pitfals")
    assert typo.reason == 'matched "pitfalls" (you typed "pitfals")'


# ---------------------------------------------------------------- what every response says


def test_three_results_by_default_and_no_notice_for_an_ordinary_question(
    write_playbook: WritePlaybook,
) -> None:
    index = build(
        write_playbook,
        {
            title: {KEY: [f"{title} basics."], PITFALLS: [f"{title} can fail."]}
            for title in ("Alpha Grants", "Beta Prizes", "Gamma Parks", "Delta Labs")
        },
    )
    response = index.search("pitfalls")
    assert len(response.results) == 3
    assert response.notice is None and response.corrections == () and response.suggestions == ()
    assert response.query == "pitfalls" and response.playbook is None
    assert response.partial is False


def test_a_long_question_is_cut_at_the_word_limit_and_says_so(
    write_playbook: WritePlaybook,
) -> None:
    index = build(write_playbook, SKY)
    at_limit = " ".join(["quasar"] * MAX_QUERY_WORDS)
    assert index.search(at_limit).notice is None
    over = index.search(f"{at_limit} quasar")
    assert over.notice == f"long question: only its first {MAX_QUERY_WORDS} words were used"
    assert over.results[0].section.key == key("Alpha Grants", CASE)
    # the notice survives a miss too
    off_topic = index.search(" ".join(["lunch"] * (MAX_QUERY_WORDS + 1)))
    assert off_topic.no_match
    assert off_topic.notice == over.notice


@pytest.fixture(scope="module")
def evaluation() -> Index:
    return Index(load_corpus([REPO_ROOT / "bench" / "quality" / "corpus"]))


@pytest.mark.parametrize(
    ("question", "notice", "corrections"),
    [
        ("", "empty", ()),
        ("?! …", "no words I can search for", ()),
        # words most playbooks use, and common in English too: ask for more
        ("people time", "only common words: add what the question is about", ()),
        ("peple time", "only common words: add what the question is about", (("peple", "people"),)),
        # everyday words the playbooks lack: off topic, offered the nearest sections quietly
        ("lunch time", None, ()),
        ("lunch with peple", None, (("peple", "people"),)),
    ],
)
def test_an_unanswered_question_says_why_and_keeps_what_was_asked(
    evaluation: Index, question: str, notice: str | None, corrections: tuple[str, ...]
) -> None:
    response = evaluation.search(question)
    assert response.results == () and response.no_match
    assert response.query == question
    assert response.notice == notice
    assert response.corrections == corrections
    assert response.playbook is None and not response.partial
    assert len(response.suggestions) == 3 and None not in response.suggestions


def test_a_section_holding_exactly_half_the_topic_answers(write_playbook: WritePlaybook) -> None:
    """Half the topic words by IDF is enough ("at least half"); less is not. Neither playbook
    stands out here, so only coverage decides."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {KEY: ["Alpha basics."], CASE: ["A zorblat story."]},
            "Beta Prizes": {KEY: ["Beta basics."], CASE: ["A quibbix story."]},
        },
    )
    assert keys(index, "zorblat quibbix") == [key("Alpha Grants", CASE), key("Beta Prizes", CASE)]
    assert keys(index, "zorblat quibbix zxqvor") == []
    # a miss keeps what was asked: the corrections, the long-question notice
    miss = index.search("zorblatt quibbix zxqvor" + " the" * MAX_QUERY_WORDS)
    assert miss.results == () and miss.playbook is None
    assert miss.corrections == (("zorblatt", "zorblat"),)
    assert miss.notice == f"long question: only its first {MAX_QUERY_WORDS} words were used"
    assert [s.key for s in miss.suggestions] == [
        key("Alpha Grants", CASE),
        key("Beta Prizes", CASE),
        key("Alpha Grants", KEY),
    ]


REFERENCES = {
    "Alpha Grants": {
        KEY: ["Alpha basics."],
        CASE: ["The quasar, the nebula and the pulsar."],
        PITFALLS: ["A nebula risk."],
        READING: ["Zorblat and zorblat: a history."],
    },
    "Beta Prizes": {
        KEY: ["Beta basics."],
        CASE: ["Beta story with a zorblat."],
        PITFALLS: ["Beta risk of quibbix."],
    },
}


def test_link_lists_count_less_unless_asked_for(write_playbook: WritePlaybook) -> None:
    """A reading list echoes names without explaining them: a section that explains comes
    first even when the list repeats the word more; asked for, the list counts fully."""
    index = build(write_playbook, REFERENCES)
    results = index.search("zorblat").results
    assert [r.section.key for r in results] == [
        key("Beta Prizes", CASE),
        key("Alpha Grants", READING),
    ]
    assert results[0].score < 0.8
    # the list holds only "zorblat", the commoner half of "zorblat quibbix" (by IDF): left out
    assert keys(index, "zorblat quibbix") == [
        key("Beta Prizes", PITFALLS),
        key("Beta Prizes", CASE),
    ]
    asked = index.search("zorblat further reading").results
    assert [r.section.key for r in asked] == [
        key("Alpha Grants", READING),
        key("Beta Prizes", CASE),
    ]
    assert asked[0].score == pytest.approx(1.0, abs=0.001)


def test_content_pointing_at_one_playbook_lets_its_asked_for_section_answer(
    write_playbook: WritePlaybook,
) -> None:
    """ "quasar pulsar" points at Alpha Grants only: its overview answers "overview" though it
    holds neither word, first since it was asked for; the case study holding both follows."""
    index = build(write_playbook, REFERENCES)
    assert keys(index, "quasar pulsar overview") == [
        key("Alpha Grants", KEY),
        key("Alpha Grants", CASE),
    ]


# ---------------------------------------------------------------- naming a playbook


def test_a_question_naming_a_playbook_is_answered_from_it_not_the_best_matching(
    write_playbook: WritePlaybook,
) -> None:
    index = build(
        write_playbook,
        {
            "Alpha Grants": {KEY: ["Quasar, quasar, quasar."], CASE: ["A quasar story."]},
            "Beta Prizes": {KEY: ["Beta basics."], PITFALLS: ["A quasar once."], WHO: ["Bo."]},
        },
    )
    response = index.search("beta prizes quasar")
    assert response.playbook is not None and response.playbook.title == "Beta Prizes"
    assert [r.section.key for r in response.results] == [key("Beta Prizes", PITFALLS)]
    assert not response.partial
    # nothing in it matches the rest: its sections, in the usual order, as a partial answer
    partial = index.search("beta prizes nebula")
    assert partial.partial and partial.playbook is not None
    assert [r.section.key for r in partial.results] == [
        key("Beta Prizes", KEY),
        key("Beta Prizes", PITFALLS),
        key("Beta Prizes", WHO),
    ]


def test_the_playbook_named_more_fully_comes_first(write_playbook: WritePlaybook) -> None:
    """Two title words name a playbook; the share of its title named orders the named ones."""
    index = build(
        write_playbook,
        {
            "Quasar Park Lotteries": {KEY: ["Draws."], PITFALLS: ["Rigged draws."]},
            "Quasar Parks": {KEY: ["Land."], PITFALLS: ["Empty land."]},
            "Nebula Funds": {KEY: ["Money."], PITFALLS: ["No money."]},
        },
    )
    response = index.search("quasar park pitfalls")
    assert response.playbook is None  # two named: no single one to narrow to
    assert keys(index, "quasar park pitfalls") == [
        key("Quasar Parks", PITFALLS),
        key("Quasar Park Lotteries", PITFALLS),
    ]
    assert keys(index, "quasar park lotteries pitfalls") == [
        key("Quasar Park Lotteries", PITFALLS),
        key("Quasar Parks", PITFALLS),
    ]


def test_one_word_of_a_longer_title_names_nothing_a_one_word_title_is_named(
    write_playbook: WritePlaybook,
) -> None:
    index = build(
        write_playbook,
        {
            "Lotteries": {KEY: ["Draws."], PITFALLS: ["Rigged draws."]},
            "Alpha Grants": {KEY: ["Alpha."], PITFALLS: ["Alpha risk."]},
            "Beta Grants": {KEY: ["Beta."], PITFALLS: ["Beta risk."]},
        },
    )
    lotteries = index.search("lotteries pitfalls")
    assert lotteries.playbook is not None and lotteries.playbook.title == "Lotteries"
    assert keys(index, "lotteries pitfalls") == [key("Lotteries", PITFALLS)]
    assert index.search("grants pitfalls").playbook is None
    assert index.search("alpha grants pitfalls").playbook is not None


@pytest.mark.parametrize("users", [2, 3])
def test_an_acronym_most_playbooks_use_as_a_word_names_none(
    write_playbook: WritePlaybook, users: int
) -> None:
    """ "R&D" in a corpus about research funding is vocabulary, not the name of the R&D Tax
    Credits playbook: when more than a third of the playbooks (at least two) say it; its
    longer acronym still names the playbook."""
    playbooks = {"Research and Development Tax Credits": {KEY: ["Refunds."], PITFALLS: ["Abuse."]}}
    for n, title in enumerate(("Alpha Grants", "Beta Prizes", "Gamma Parks")):
        playbooks[title] = {KEY: ["R&D money." if n < users else "Money."], PITFALLS: ["Risk."]}
    index = build(write_playbook, playbooks)
    rd = index.search("rd pitfalls")
    assert (rd.playbook is None) == (users > 2)
    named = index.search("rdtc pitfalls")
    assert named.playbook is not None and named.corrections == ()
    assert keys(index, "rdtc pitfalls") == [key("Research and Development Tax Credits", PITFALLS)]


def test_acronyms_are_the_initials_of_two_or_more_words_with_plurals() -> None:
    assert short_forms("Small Business Innovation Research") == {
        *("sb", "sbs", "bi", "bis", "ir", "irs"),  # two words
        *("sbi", "sbis", "bir", "birs"),  # three
        *("sbir", "sbirs"),  # all four
    }
    assert short_forms("Human Capital") == {"hc", "hcs"}
    assert short_forms("Human Innovation") == set()  # "hi" (a greeting) and "his": stop words
    assert short_forms("Laboratories") == set()


def test_clippings_keep_three_letters_and_leave_three_out() -> None:
    assert clippings("Parkways") == dict.fromkeys(
        ("par", "pars", "park", "parks", "parkw", "parkws"), "parkways"
    )
    assert clippings("Theory") == {"thes": "theory"}  # "the" is a stop word
    assert clippings("Lab") == {}


def test_a_clipped_title_word_names_its_playbook_unless_others_use_it(
    write_playbook: WritePlaybook,
) -> None:
    """ "labs" is Laboratories as people say it; "parks" is no clipping of Parkways when
    another playbook uses "parks" as a word of its own."""
    index = build(
        write_playbook,
        {
            "Industrial Laboratories": {KEY: ["Bell."], PITFALLS: ["Closed."]},
            "Quasar Parkways": {KEY: ["Roads."], PITFALLS: ["Traffic."]},
            "Nebula Funds": {KEY: ["Parks and money."], PITFALLS: ["No money."]},
        },
    )
    labs = index.search("industrial labs pitfalls")
    assert labs.playbook is not None and labs.playbook.title == "Industrial Laboratories"
    assert index.search("quasar parks pitfalls").playbook is None
    lab = index.search("industrial lab pitfalls")
    assert lab.playbook is not None and lab.playbook.title == "Industrial Laboratories"


def test_content_shared_by_two_playbooks_identifies_neither(write_playbook: WritePlaybook) -> None:
    """An asked-for section holding none of the words answers only when the content points at
    its playbook clearly; here both playbooks hold "zorblat" alike."""
    index = build(
        write_playbook,
        {
            "Alpha Grants": {KEY: ["Alpha basics."], CASE: ["A zorblat story."]},
            "Beta Prizes": {KEY: ["Beta basics."], CASE: ["A zorblat tale."]},
        },
    )
    assert keys(index, "zorblat overview") == [key("Alpha Grants", CASE), key("Beta Prizes", CASE)]


def test_in_a_one_playbook_corpus_the_content_points_at_it(write_playbook: WritePlaybook) -> None:
    """With one playbook, any content match points at it: its overview answers "overview"
    beside the words, as in a larger corpus where the words are its own."""
    index = build(write_playbook, {"Alpha Grants": SKY["Alpha Grants"]})
    assert keys(index, "quasar pulsar overview") == [
        key("Alpha Grants", KEY),
        key("Alpha Grants", CASE),
    ]


def test_the_shipped_english_snapshot_is_the_installed_word_list() -> None:
    """The package's arrays must be exactly what reading pyspellchecker's list gives: after
    an upgrade of pyspellchecker this fails until ``python -m bot.search.english`` is run."""
    from bot.search import english

    source = english._word_list()
    shipped = english._from_snapshot(english.SNAPSHOT, english._fingerprint(source))
    assert shipped is not None, "stale snapshot: run python -m bot.search.english"
    slow = english._from_word_list(source)
    assert np.array_equal(shipped._keys, slow._keys)
    assert np.array_equal(shipped._counts, slow._counts)
    assert shipped._common_count == slow._common_count == int(np.sort(slow._counts)[-20_000])
    for word in ("lunch", "lottery", "okr", "organised", "zürich"):
        assert shipped.count(word) == slow.count(word)


def test_an_english_snapshot_of_another_list_or_a_broken_one_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another pyspellchecker's list (a different fingerprint), a missing file or a damaged
    one: the words are read from the installed list instead, with a log line saying why."""
    from bot.search import english

    source = english._word_list()
    fingerprint = english._fingerprint(source)
    other = tmp_path / "other.npz"
    np.savez(
        other, keys=np.zeros(1, np.uint64), counts=np.ones(1, np.uint32), source=fingerprint + 1
    )
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(english.SNAPSHOT.read_bytes()[:1000])
    with caplog.at_level(logging.INFO, logger="bot.search.english"):
        assert english._from_snapshot(other, fingerprint) is None
        assert english._from_snapshot(tmp_path / "missing.npz", fingerprint) is None
        assert english._from_snapshot(damaged, fingerprint) is None
    assert [r.getMessage() for r in caplog.records] == [
        "english word list differs from the snapshot",
        "english snapshot unreadable",
        "english snapshot unreadable",
    ]
    written = tmp_path / "written.npz"
    english.write_snapshot(written)
    assert english._from_snapshot(written, fingerprint) is not None
    assert english._from_snapshot(written, fingerprint + 1) is None


def test_a_cached_index_brings_its_english_word_list(tmp_path: Path) -> None:
    """Unpickled in a fresh process, an index needs no read of the word list (0.3 s of every
    start): it carries the arrays. A process that has its list keeps that one copy."""
    from bot.search import english

    stored = tmp_path / "english.pickle"
    stored.write_bytes(pickle.dumps(english.load_english(), protocol=5))
    assert pickle.loads(stored.read_bytes()) is english.load_english()
    script = (
        "import gzip, pickle, sys\n"
        "def refuse(*args, **kwargs): raise AssertionError('the word list was read')\n"
        "gzip.decompress = refuse\n"
        "from bot.search import english\n"
        f"restored = pickle.loads(open({str(stored)!r}, 'rb').read())\n"
        "assert english.load_english() is restored\n"
        "print(restored.is_everyday('lunch'), restored.is_word('okr'),\n"
        "      restored.count('lottery') > 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "True"]


def test_two_words_stand_side_by_side_in_some_section_however_many_hold_both(
    write_playbook: WritePlaybook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phrase test behind the off-topic rule: "tax holiday" is a phrase of the playbooks
    where the two words are neighbours (stop words aside), in that order. It is looked for in
    the first PHRASE_DOCS sections holding both, so its cost does not grow with the corpus: a
    phrase used only past them is not seen."""
    monkeypatch.setattr("bot.search.index.PHRASE_SCAN", 8)
    monkeypatch.setattr("bot.search.index.PHRASE_DOCS", 4)
    chatter = {"Key things to know": ["A holiday for the office staff. Tax rules apply."]}

    def corpus(phrase_in: int) -> dict[str, dict[str, list[str]]]:
        playbooks = {f"Zone {n}": chatter for n in range(7)}
        playbooks[f"Zone {phrase_in}"] = {"Key things to know": ["A tax holiday of five years."]}
        return playbooks

    index = build(write_playbook, corpus(phrase_in=0))
    assert index._adjacent(stem("tax"), stem("holiday"))
    assert index._adjacent(stem("holiday"), stem("office"))  # "for the": stop words
    assert not index._adjacent(stem("holiday"), stem("tax"))  # the order counts
    assert not index._adjacent(stem("office"), stem("holiday"))
    late = build(write_playbook, corpus(phrase_in=6))
    assert not late._adjacent(stem("tax"), stem("holiday"))  # past the first four


# ---------------------------------------------------------------- which items are quoted

MADE_UP = ("zorblat", "quix", "flam", "tonk")


@settings(max_examples=80, derandomize=True, deadline=None)
@given(
    bullets=st.lists(
        st.lists(st.sampled_from(MADE_UP), min_size=1, max_size=6), min_size=1, max_size=6
    ).filter(lambda bullets: any("zorblat" in bullet for bullet in bullets)),
    asked=st.sampled_from(["zorblat", "zorblat quix"]),
)
def test_the_items_quoted_are_those_holding_the_question_s_words_most(
    bullets: list[list[str]], asked: str
) -> None:
    """An answer quotes the section's items holding the question's words: each word counts
    1 + log(times it occurs), weighed by its IDF (all equal here: one section), most
    relevant first, ties in the section's order, two at most."""
    assume(all(any(word in bullet for bullet in bullets) for word in asked.split()))
    with tempfile.TemporaryDirectory() as tmp:
        body = "".join(f"- {' '.join(bullet)}\n" for bullet in bullets)
        Path(tmp, "made-up.md").write_text(f"---\ntitle: Made Up\n---\n\n## {CASE}\n\n{body}")
        index = Index(load_corpus([Path(tmp)]))
    (result, *_) = index.search(asked).results

    def relevance(bullet: list[str]) -> float:
        return sum(1 + math.log(bullet.count(w)) for w in asked.split() if w in bullet)

    ranked = sorted(
        (i for i, bullet in enumerate(bullets) if relevance(bullet) > 0),
        key=lambda i: (-relevance(bullets[i]), i),
    )
    assert [item.text for item in result.items] == [" ".join(bullets[i]) for i in ranked[:2]]
