"""The semantic extra (WordLlama static embeddings): loads offline from the installed package,
keeps off-topic questions off, and answers some paraphrases lexical search cannot."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import numpy as np
import pytest

from bot.cli import main
from bot.corpus import load_corpus
from bot.search import Index
from bot.search.semantic import SemanticUnavailableError, embedder_for, load_embedder
from bot.settings import ConfigError, load_settings
from tests.conftest import REPO_ROOT

pytest.importorskip("wordllama", reason="the [semantic] extra is part of the [test] extra")
QUALITY = REPO_ROOT / "bench" / "quality"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection fails the test (the model must load offline)."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the semantic extra tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture(scope="module")
def both() -> tuple[Index, Index]:
    corpus = load_corpus([QUALITY / "corpus"])
    return Index(corpus), Index(corpus, embedder=load_embedder())


def test_the_model_loads_from_the_package_without_the_network(no_network: None) -> None:
    load_embedder.cache_clear()
    embedder = load_embedder()
    vectors = embedder.embed(["grant lotteries", "grant lottery", "parking permit"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar, unrelated = vectors[1] @ vectors[0], vectors[2] @ vectors[0]
    assert similar > unrelated


OFF_TOPIC = ("when is the next all-hands", "who is on call this weekend", "lunch order for friday?")


def test_off_topic_questions_are_not_answered_with_or_without_it(
    both: tuple[Index, Index],
) -> None:
    lexical, semantic = both
    assert all(semantic.search(question).no_match for question in OFF_TOPIC)
    assert all(lexical.search(question).no_match for question in OFF_TOPIC)


def test_named_playbooks_and_section_names_do_not_depend_on_it(
    both: tuple[Index, Index],
) -> None:
    _, semantic = both
    assert semantic.search("sbir pitfalls").results[0].section.key == (
        "small-business-innovation-research#potential-pitfalls"
    )
    assert len(semantic.search("pitfalls", limit=13).results) == 13


def test_the_setting_chooses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings({}).semantic == "off"  # installed or not, off unless asked for
    assert embedder_for("off") is None
    assert embedder_for("auto") is load_embedder()
    monkeypatch.setattr("bot.search.semantic.available", lambda: False)
    assert embedder_for("auto") is None
    with pytest.raises(SemanticUnavailableError, match=r"pip install \"hubs-bot\[semantic\]\""):
        embedder_for("on")
    with pytest.raises(ConfigError, match="HUBS_SEMANTIC must be one of auto, on, off"):
        load_settings({"HUBS_SEMANTIC": "maybe"})


def test_the_command_line_uses_it_when_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "would a different set of judges have picked different winners?"
    argv = ["ask", "--corpus", str(QUALITY / "corpus"), question]
    assert main(argv) == 0  # HUBS_SEMANTIC=off (conftest): no word specific enough alone
    assert capsys.readouterr().out.startswith("Nothing in the playbooks matches")
    monkeypatch.setenv("HUBS_SEMANTIC", "on")
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("1. ")  # like a section: answered


def test_a_question_like_nothing_in_the_playbooks_still_says_what_was_asked(
    both: tuple[Index, Index],
) -> None:
    """Below the similarity floor everywhere, the semantic index answers nothing; the
    response keeps the question, its corrections and the long-question notice, and offers the
    sections holding its words ("performance", "reviews"), of the kind asked for first."""
    _, semantic = both
    question = "when are performance reviws due " + "and when are they due " * 8
    response = semantic.search(question)
    assert response.results == () and response.query == question.strip()
    assert response.corrections == (("reviws", "reviews"),)
    assert response.notice == "long question: only its first 40 words were used"
    assert [s.key for s in response.suggestions] == [  # "when": *When to use* first
        "arpa-program-managers#when-to-use",
        "technology-readiness-levels#when-to-use",
        "technology-readiness-levels#contributors",
    ]


# The semantic channel's share in the order and in the shown scores, for paraphrases where it
# changes the lexical answer: first answers checked by hand, the rest pinned as they are today.
SEMANTIC_RANKINGS = [
    ("what happens to the work once the person who dreamed it up rotates out?", []),
    (
        "would a different set of judges have picked different winners?",
        [
            ("inducement-prizes#key-things-to-know", 0.76),
            ("grant-lotteries#case-study", 0.68),
            ("inducement-prizes#potential-pitfalls", 0.66),
        ],
    ),
    (
        "how come big companies mostly quit doing fundamental discovery work?",
        [
            ("focused-research-organizations#when-to-use", 0.42),
            ("focused-research-organizations#key-things-to-know", 0.37),
            ("focused-research-organizations#potential-pitfalls", 0.32),
        ],
    ),
    (
        "every part passed its tests on its own but the assembled thing was nowhere near ready"
        " - is the maturity score misleading us?",
        [
            ("technology-readiness-levels#potential-pitfalls", 0.71),
            ("technology-readiness-levels#case-study", 0.45),
            ("technology-readiness-levels#key-things-to-know", 0.43),
        ],
    ),
]


@pytest.mark.parametrize(("question", "expected"), SEMANTIC_RANKINGS, ids=range(4))
def test_the_semantic_channel_in_the_whole_top_three(
    both: tuple[Index, Index], question: str, expected: list[tuple[str, float]]
) -> None:
    _, semantic = both
    results = semantic.search(question).results
    assert [r.section.key for r in results] == [k for k, _ in expected]
    assert [r.score for r in results] == pytest.approx([s for _, s in expected], abs=0.006)
