"""Questions as people ask them, on the thirteen-playbook evaluation corpus: acronyms and
short forms, decision phrasing, named playbooks without a matching section, off-topic ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.corpus import Corpus, load_corpus
from bot.search import Index
from bot.search.intent import PhraseTable, inflection_bases
from bot.search.misses import MissExplainer
from bot.search.names import short_forms
from bot.search.tokens import terms, typed_acronyms
from bot.settings import ConfigError, load_settings
from bot.store import Store
from tests.conftest import REPO_ROOT, WritePlaybook, best

QUALITY = REPO_ROOT / "bench" / "quality"


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(load_corpus([QUALITY / "corpus"]))


def first(index: Index, question: str) -> str:
    return best(index, question).key


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("sbir pitfalls", "small-business-innovation-research#potential-pitfalls"),
        ("TRLs case study", "technology-readiness-levels#case-study"),
        ("FROs reading list", "focused-research-organizations#further-readings"),
        ("AMCs when to use", "advance-market-commitments#when-to-use"),
        ("r&d credit pitfalls", "rd-tax-credits#potential-pitfalls"),
        ("what do PMs actually decide", "arpa-program-managers#key-things-to-know"),
    ],
)
def test_acronyms_and_short_forms_name_their_playbook(
    index: Index, question: str, key: str
) -> None:
    assert first(index, question) == key


def test_acronyms_are_derived_not_listed() -> None:
    assert {"sbir", "sbirs", "bir", "sb"} <= short_forms("Small Business Innovation Research")
    assert {"rd", "rdtc"} <= short_forms("Research and Development Tax Credits")
    assert "ass" not in short_forms("ARPA-Style Program Managers")  # "as" is a stop word


def test_an_acronym_is_not_a_typo(index: Index) -> None:
    response = index.search("fros pitfalls")
    assert response.corrections == ()
    assert response.results[0].section.key == "focused-research-organizations#potential-pitfalls"


def test_an_ambiguous_acronym_narrows_to_nothing(write_playbook: WritePlaybook) -> None:
    for title in ("Research Labs", "Regional Leaders"):
        write_playbook(
            f"{title.lower().replace(' ', '-')}.md",
            f"---\ntitle: {title}\n---\n\n## Potential pitfalls\n\n- {title} can fail.\n",
        )
    response = Index(load_corpus([write_playbook.root])).search("rl pitfalls")  # type: ignore[attr-defined]
    assert response.playbook is None
    assert len(response.results) == 2


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("should we fund our pilot with a grant lottery instead of peer review?", "When to use"),
        ("is it worth running a science park next to our university?", "When to use"),
        ("what could go wrong with a patent buyout?", "Potential pitfalls"),
        ("who put the fast grants page together?", "Contributors"),
        ("how does an advance market commitment work?", "Key things to know"),
        # a past-tense question asks what happened; "never" asks what goes wrong
        ("did fast grants actually get money out quickly?", "Case study"),
        ("why do science parks never attract research labs?", "Potential pitfalls"),
    ],
)
def test_decision_and_intent_phrasing(index: Index, question: str, heading: str) -> None:
    response = index.search(question)
    assert response.results[0].section.heading == heading


def test_a_longer_cue_wins_over_the_words_inside_it(index: Index) -> None:
    """ "what could go wrong" asks for pitfalls; its "what" does not ask for an overview."""
    result = index.search("what could go wrong with fast grants").results[0]
    assert result.intent == "what could go wrong"


def test_words_about_the_corpus_are_not_topics(index: Index) -> None:
    assert first(index, "fast grants playbook page") == first(index, "fast grants")


def test_a_named_playbook_with_nothing_else_matching_is_a_partial_answer(index: Index) -> None:
    response = index.search("fast grants zebra giraffe")
    assert response.partial
    assert {r.section.playbook_slug for r in response.results} == {"fast-grants"}
    assert response.results[0].section.heading == "Key things to know"
    assert not index.search("fast grants pitfalls").partial


@pytest.mark.parametrize(
    "question",
    ["why", "when does it", "who is it", "is it worth it?", "what could go wrong"],
)
def test_a_cue_without_a_topic_is_no_answer(index: Index, question: str) -> None:
    assert index.search(question).no_match


def test_a_section_name_alone_is_still_an_answer(index: Index) -> None:
    response = index.search("pitfalls", limit=13)
    assert len(response.results) == 13
    assert {r.section.heading for r in response.results} == {"Potential pitfalls"}
    assert index.search("show me all the pitfalls please").results  # filler is not a topic


@pytest.mark.parametrize(
    "question", ["key things to know for the first day back", "case studies for the next all-hands"]
)
def test_a_section_name_beside_words_the_playbooks_are_not_about_is_no_answer(
    index: Index, question: str
) -> None:
    """The section's name does not make the rest a question about the playbooks."""
    response = index.search(question)
    assert response.no_match
    assert response.notice == "only common words: add what the question is about"


def test_cues_can_be_extended_in_the_config_file(tmp_path: Path, seed_corpus: Corpus) -> None:
    config = tmp_path / "hubs.toml"
    config.write_text('[search.cues]\n"Potential pitfalls" = ["horror stories"]\n')
    settings = load_settings({"HUBS_CONFIG": str(config)})
    assert settings.cues == {"Potential pitfalls": ["horror stories"]}
    index = Index(seed_corpus, settings.aliases, settings.cues)
    result = index.search("silicon valley horror stories").results[0]
    assert (result.section.heading, result.intent) == ("Potential pitfalls", "horror stories")


def test_a_malformed_cue_table_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "hubs.toml"
    config.write_text('[search.cues]\n"When to use" = "should we"\n')
    with pytest.raises(ConfigError, match=r"\[search.cues\] 'When to use' must be a list"):
        load_settings({"HUBS_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("what does the QZX framework say", "unknown acronym: QZX"),
        ("zeppelin maintenance", "unknown words: zeppelin"),
        ("when is it?", "no topic"),
        ("sbir daguerreotype", "words not together"),
    ],
)
def test_unanswered_questions_are_sorted_into_kinds(question: str, kind: str) -> None:
    explainer = MissExplainer(load_corpus([QUALITY / "corpus"]))
    assert explainer.kind(question) == kind


def test_stats_names_the_kind_of_each_unanswered_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUBS_DATABASE_URL", f"sqlite:///{tmp_path}/stats.db")
    store = Store.connect(f"sqlite:///{tmp_path}/stats.db")
    store.record_query("slash", "zeppelin maintenance", None)
    store.record_query("slash", "pitfalls", "regional-innovation-hubs#potential-pitfalls")
    store.close()  # questions are written by a background thread; close writes the rest
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "zeppelin maintenance   [unknown words: zeppelin, maintenance]" in out
    assert main(["stats", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["no_match_kinds"] == {
        "zeppelin maintenance": "unknown words: zeppelin, maintenance"
    }


def test_no_match_suggestions_are_the_sections_nearest_the_words(index: Index) -> None:
    """Not the same three whatever was asked: sections holding the question's words first."""
    daguerreotype = index.search("zebra quantum daguerreotype crossword")
    tax = index.search("zebra quantum payroll withholding deduction crossword")
    assert daguerreotype.no_match and tax.no_match
    assert daguerreotype.suggestions[0].playbook_slug == "patent-buyouts"
    assert daguerreotype.suggestions != tax.suggestions
    assert len(daguerreotype.suggestions) == 3


def test_no_match_suggestions_weigh_the_kind_asked_for_and_the_playbook(index: Index) -> None:
    """ "raffle" is no word of the playbooks, so this gets no answer; the sections offered
    instead are weighed as an answer is: the playbook its words point at, and the kind of
    section its cue asks for ("what could go wrong")."""
    response = index.search("what could go wrong if we pitch a grant raffle to our board?")
    assert response.no_match
    assert response.suggestions[0].key == "grant-lotteries#potential-pitfalls"
    assert {s.heading for s in response.suggestions} == {"Potential pitfalls"}


@pytest.mark.parametrize(
    "question",
    [
        "lunch order for friday?",  # "lunch" is a word, not a typo of "launch"
        "who has the conference room booked at 3",  # nor "conference" of "confidence"
        "can someone review my pull request",  # "review" is in a playbook, but says little
        # words the playbooks use ~7-150x more than English does, never side by side there
        "is the office open on the holiday monday",  # "tax holidays", "back offices"
        "when are performance reviews due",  # "performers", "peer review"
        "what time is the all-hands today and is there a zoom link?",
        "is the office parking garage open on weekends?",  # Snowball: "parking" is "park"
        "how do i cancel a meeting i organised",
    ],
)
def test_office_chatter_in_corpus_words_is_no_answer(index: Index, question: str) -> None:
    response = index.search(question)
    assert response.no_match and not response.corrections
    assert response.suggestions  # the nearest sections, as for any miss


@pytest.mark.parametrize(
    "question",
    [
        "Is there a template for the quarterly customer QBR deck?",
        "How many open reqs do we have for the backend engineer role?",
        "whats our okr for q3 on the onboarding revamp",
    ],
)
def test_jargon_the_playbooks_lack_is_no_reason_to_answer(index: Index, question: str) -> None:
    """ "qbr", "reqs", "okr": in no English list and in no playbook. Such a word can match
    nothing, so it does not make a question about the playbooks; the words beside it must
    ("template", "quarterly" and "customer" are only moderately specific to them)."""
    assert index.search(question).no_match


@pytest.mark.parametrize(
    ("question", "key"),
    [
        # "air force" and "pitch day" stand side by side in the SBIR playbook
        (
            "what was unusual about the first air force pitch day?",
            "small-business-innovation-research#case-study",
        ),
        # "lottery": ~150x more frequent in the playbooks than in English, a reason alone
        ("lottery downsides", "grant-lotteries#potential-pitfalls"),
    ],
)
def test_moderately_specific_words_answer_in_the_playbooks_phrases(
    index: Index, question: str, key: str
) -> None:
    assert first(index, question) == key


def test_everyday_words_are_never_corrected_and_typos_still_are(index: Index) -> None:
    assert index.search("lunch").corrections == ()
    assert ("lotery", "lottery") in index.search("lotery pitfals").corrections


def test_british_spellings_are_everyday_words_too() -> None:
    from bot.search.english import american, load_english

    english = load_english()
    assert american("organised") == "organized" and american("labour") == "labor"
    assert english.is_everyday("organised") and english.count("organised") > 1000
    assert not english.is_everyday("daguerreotype")


def test_a_specific_word_answers_among_everyday_ones(index: Index) -> None:
    """ "play" is no topic of the playbooks, but "ITRI" and "Hsinchu" are."""
    assert best(index, "what role did ITRI play in hsinchu?").key == "science-parks#case-study"


def test_the_thread_supplies_the_topic_and_the_question_the_section(index: Index) -> None:
    about = "anyone read the lottery grant funding playbook?"
    response = index.search("who put this page together?", context=about)
    assert response.results[0].section.key == "grant-lotteries#contributors"
    assert index.search("who put this page together?").no_match
    assert index.search("what went wrong?", context=about).results[0].section.key == (
        "grant-lotteries#potential-pitfalls"
    )


def test_a_number_the_playbooks_lack_counts_neither_for_nor_against(index: Index) -> None:
    """ "2x" is no word of any playbook: it used to weigh against every section's coverage as
    heavily as the rarest word, so a clear patent-buyout question got no answer."""
    with_number = (
        "what could go wrong if we put out a standing offer to buy every new patent at 2x?"
    )
    without = "what could go wrong if we put out a standing offer to buy every new patent?"
    assert first(index, with_number) == first(index, without) == "patent-buyouts#potential-pitfalls"


@pytest.mark.parametrize("question", ["is it 12 or 16", "is it 1980 or 1990"])
def test_numbers_alone_are_no_reason_to_answer(index: Index, question: str) -> None:
    """The playbooks use these numbers and the English list has none, so by frequency they
    looked like the playbooks' own words."""
    assert index.search(question).results == ()


def test_contractions_without_apostrophes_are_stop_words() -> None:
    assert terms("whats the deal, dont they backfire? isnt it bound to fail") == terms(
        "what's the deal, don't they backfire? isn't it bound to fail"
    )


def test_a_cue_in_another_inflection_asks_for_its_section(index: Index) -> None:
    assert {"flop", "fail", "struggle", "worry"} <= {
        base
        for word in ("flopping", "failing", "struggling", "worried")
        for base in inflection_bases(word)
    }
    assert first(index, "science parks flopping") == "science-parks#potential-pitfalls"
    table = PhraseTable.for_headings(["Further readings"])
    assert table.match(["sources"]).strength  # an alias as it is listed
    assert not table.match(["sourcing"]).strength  # but no alias inside a longer word


@pytest.mark.parametrize(
    ("question", "key"),
    [
        (
            "is a focused research org the right structure for us?",
            "focused-research-organizations#when-to-use",
        ),
        ("is there anything written on grant lotteries", "grant-lotteries#further-readings"),
        ("whats a grant lottery", "grant-lotteries#key-things-to-know"),
    ],
)
def test_more_ways_of_asking(index: Index, question: str, key: str) -> None:
    assert first(index, question) == key


def test_a_mistyped_stop_word_is_a_stop_word(index: Index) -> None:
    """ "somthing" and "waht" are no words of the playbooks nor of English: as unknown words
    they weighed against every section as heavily as the rarest word."""
    response = index.search("waht went wrong w/ hsarpa? ppl keep mentioning somthing")
    assert ("waht", "what") in response.corrections
    assert ("somthing", "something") in response.corrections
    assert response.results[0].section.key == "arpa-program-managers#potential-pitfalls"
    assert index.search("hsarpa").corrections == ()  # a word one edit from none: as typed


def test_chat_filler_is_no_topic() -> None:
    assert terms("hey pls tell me abt lotteries tbh, ppl w/ u") == terms("tell me abt lotteries")


def test_an_acronym_typed_in_capitals_is_no_typo(index: Index) -> None:
    """ "PTO" is one letter from "IPTO" (an office in the ARPA playbook): typed in capitals it
    is an acronym of its own, and the question is not about ARPA."""
    response = index.search("How many PTO days roll over into next year?")
    assert response.corrections == () and response.no_match
    assert ("pto", "ipto") in index.search("how many pto days roll over").corrections
    assert typed_acronyms("what's the SLA for QBRs? ask the PMs, SLA first") == [
        "SLA",
        "QBRs",
        "PMs",
    ]
    assert typed_acronyms("WHAT ARE THE PITFALS") == []  # shouting, not acronyms
