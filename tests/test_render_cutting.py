"""What cutting mrkdwn promises (``truncate``, ``fit_units``): the budget is never exceeded
and is used up when nothing forbids it; a cut never lands inside an escape (``&amp;``) or a
link (``<url|label>``); it backs up to a word boundary when one is near the end; long text
ends with "…"; whole units are kept or dropped, and the caller is told when something was.

The first tests pin one output each (bench/mutation.sh checks that changing a bound fails
one); the properties at the end check the promises over generated text, with a fixed seed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.mrkdwn import (
    ELLIPSIS,
    escape,
    fit_sentences,
    fit_units,
    link,
    split_sentences,
    truncate,
)

# ---------------------------------------------------------------- truncate: the budget


@pytest.mark.parametrize("text", ["", "abc", "a b c d e", "&amp;", "<https://x.org|x>"])
def test_text_that_fits_is_returned_as_it_is(text: str) -> None:
    assert truncate(text, len(text)) == text  # exactly the limit still fits
    assert truncate(text, len(text) + 1) == text


def test_with_no_boundary_in_sight_the_cut_fills_the_budget_exactly() -> None:
    assert truncate("x" * 20, 10) == "x" * 9 + ELLIPSIS  # 10 characters: 9 and the ellipsis
    assert truncate("x" * 20, 2) == "x" + ELLIPSIS
    assert truncate("x" * 20, 1) == ELLIPSIS  # no room for text: the ellipsis alone


def test_white_space_before_the_ellipsis_is_dropped_not_counted() -> None:
    assert truncate("abc   " + "x" * 20, 6) == "abc" + ELLIPSIS  # not "abc  …"
    assert truncate("  abc" + "x" * 20, 6) == "  abc" + ELLIPSIS  # leading space is text


# ---------------------------------------------------------------- truncate: word boundaries


def test_the_cut_backs_up_to_a_space_in_the_last_forty_percent_of_the_room() -> None:
    # limit 11: room for 10 characters before the ellipsis
    assert truncate("abcdefg hijklmnop", 11) == "abcdefg" + ELLIPSIS  # space at 7 of 10
    assert truncate("abcdef ghijklmnop", 11) == "abcdef ghi" + ELLIPSIS  # at 6: too early
    assert truncate("ab cd ef gh ij kl", 11) == "ab cd ef" + ELLIPSIS  # the last space


def test_a_long_word_at_the_end_is_cut_rather_than_losing_most_of_the_text() -> None:
    text = "short " + "x" * 40
    assert truncate(text, 20) == "short " + "x" * 13 + ELLIPSIS


# ---------------------------------------------------------------- truncate: links


def test_a_cut_inside_a_link_drops_the_whole_link() -> None:
    text = "see " + link("https://x.org/guide", "the guide to hubs") + " now"
    # "see <https://x.org/guide|the guide to hubs> now": the label has spaces, so the word
    # boundary alone would land inside the link
    for limit in range(5, len(text) - len(" now")):
        assert truncate(text, limit) == "see" + ELLIPSIS, limit


def test_a_cut_after_a_link_keeps_it_whole() -> None:
    text = "<https://x.org|x> then some more words"
    assert truncate(text, len("<https://x.org|x> then so") + 1) == "<https://x.org|x> then…"


def test_a_cut_inside_the_second_link_keeps_the_first() -> None:
    text = "<https://a.org|a> and <https://b.org|b long label> end"
    assert truncate(text, 30) == "<https://a.org|a> and" + ELLIPSIS


def test_two_whole_links_before_the_cut_are_both_kept() -> None:
    text = "<https://a.org|a> <https://b.org|b> words after them"
    assert truncate(text, 44) == "<https://a.org|a> <https://b.org|b> words" + ELLIPSIS


@pytest.mark.parametrize(
    "linked",
    [
        "<https://x.org/?a=1&b=2>",  # a bare link: & is 3 characters before the end
        "<https://x.org/?a=1&b=2|x>",  # a short label
        "<mailto:a@x.org?cc=b@x.org&subject=hi|mail>",
    ],
)
def test_an_ampersand_in_a_links_url_is_not_mistaken_for_a_cut_escape(linked: str) -> None:
    text = f"see {linked} and more words after it"
    assert truncate(text, len(f"see {linked} and mo") + 1) == f"see {linked} and" + ELLIPSIS
    assert truncate(text, len(f"see {linked} a") + 1) == f"see {linked}" + ELLIPSIS


# ---------------------------------------------------------------- truncate: escapes


@pytest.mark.parametrize("escaped", ["&amp;", "&lt;", "&gt;"])
def test_a_cut_inside_an_escape_drops_the_whole_escape(escaped: str) -> None:
    text = "abcdefghij" + escaped + "klmnopqrstuvwxyz"
    for inside in range(1, len(escaped)):
        limit = 10 + inside + 1  # room for "abcdefghij" and part of the escape
        assert truncate(text, limit) == "abcdefghij" + ELLIPSIS, limit
    limit = 10 + len(escaped) + 1
    assert truncate(text, limit) == "abcdefghij" + escaped + ELLIPSIS  # whole: kept


def test_only_the_last_escape_is_cut_and_earlier_ones_stay() -> None:
    text = escape("a<b&c>d") + "zzzzzzzzzzzzzzz"  # a&lt;b&amp;c&gt;dzzz...
    assert truncate(text, len("a&lt;b&amp;c&g") + 1) == "a&lt;b&amp;c" + ELLIPSIS
    assert truncate(text, len("a&lt;b&amp;c&gt;d") + 1) == "a&lt;b&amp;c&gt;d" + ELLIPSIS


def test_a_whole_escape_just_before_the_cut_is_kept() -> None:
    text = "a&lt;bc&amp;" + "z" * 20
    assert truncate(text, len("a&lt;bc&amp;z") + 1) == "a&lt;bc&amp;z" + ELLIPSIS


def test_an_escape_inside_a_link_label_is_not_cut() -> None:
    text = "see " + link("https://x.org", "R&D now") + " and then more"
    assert text == "see <https://x.org|R&amp;D now> and then more"
    assert truncate(text, len("see <https://x.org|R&amp;D now> and th") + 1) == (
        "see <https://x.org|R&amp;D now> and" + ELLIPSIS
    )


# ---------------------------------------------------------------- fit_units


def test_units_that_fit_are_joined_whole_and_not_marked_trimmed() -> None:
    assert fit_units(["a", "b"], len("a\n\nb")) == ("a\n\nb", False)
    assert fit_units(["• a", "• b", "• c"], 100) == ("• a\n• b\n• c", False)


def test_kept_units_and_the_ellipsis_can_fill_the_budget_exactly() -> None:
    # "a\n\nb" and "\n…" make 6: with a third unit to drop, 6 is enough to keep "b"
    assert fit_units(["a", "b", "c"], 6) == ("a\n\nb\n" + ELLIPSIS, True)
    assert fit_units(["a", "b", "c"], 5) == ("a\n" + ELLIPSIS, True)
    assert fit_units(["• a", "• b", "• c"], len("• a\n• b\n…")) == ("• a\n• b\n…", True)


def test_a_first_unit_that_fills_the_budget_alone_is_shown_whole() -> None:
    assert fit_units(["x" * 10], 10) == ("x" * 10, False)
    assert fit_units(["x" * 11], 10) == ("x" * 9 + ELLIPSIS, True)
    assert fit_units(["word " * 5 + "end"], 12) == ("word word" + ELLIPSIS, True)


def test_a_first_unit_with_no_room_left_for_the_ellipsis_is_cut_within_the_budget() -> None:
    """The first unit is always shown; if it leaves no room for "\\n…", it is cut instead
    (it used to come back one or two characters over the limit)."""
    assert fit_units(["x" * 9, "y"], 10) == ("x" * 9 + ELLIPSIS, True)
    assert fit_units(["x" * 10, "y"], 10) == ("x" * 9 + ELLIPSIS, True)
    assert fit_units(["x" * 8, "y"], 10) == ("x" * 8 + "\n" + ELLIPSIS, True)


def test_a_unit_too_long_for_the_room_left_is_dropped_whole_and_so_are_the_rest() -> None:
    units = ["first", "x" * 50, "short"]
    assert fit_units(units, 30) == ("first\n" + ELLIPSIS, True)  # "short" would fit: not shown


# ---------------------------------------------------------------- sentences


def test_sentences_end_at_a_stop_and_a_space_closing_quotes_included() -> None:
    text = "He said “stop.” Then left! Why? Because."
    assert split_sentences(text) == ["He said “stop.”", "Then left!", "Why?", "Because."]


def test_a_full_stop_inside_a_link_does_not_end_a_sentence() -> None:
    text = "Read <https://x.org|part one. Then two> today. Done here."
    assert split_sentences(text) == ["Read <https://x.org|part one. Then two> today.", "Done here."]
    at_start = "<https://x.org|Part one. Then two> now. Done here."
    assert split_sentences(at_start) == ["<https://x.org|Part one. Then two> now.", "Done here."]


def test_only_the_link_that_is_still_open_holds_a_sentence_back() -> None:
    text = "See <https://a.org|a> and <https://b.org|one two. three> end. Next."
    assert split_sentences(text) == [
        "See <https://a.org|a> and <https://b.org|one two. three> end.",
        "Next.",
    ]
    text = "See <https://a.org|a> here. And <https://b.org|b. c> end. Next."
    assert split_sentences(text) == [
        "See <https://a.org|a> here.",
        "And <https://b.org|b. c> end.",
        "Next.",
    ]


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    assert split_sentences("A sentence, e.g. this one. Next.") == [
        "A sentence, e.g. this one.",
        "Next.",
    ]
    assert split_sentences("Made in the U.S. today. Then J. Smith came. And so on.") == [
        "Made in the U.S. today.",
        "Then J. Smith came.",
        "And so on.",
    ]


def test_fit_sentences_fills_the_budget_exactly_and_never_more() -> None:
    assert fit_sentences(["a", "b", "c"], 6) == ("a\n\nb\n" + ELLIPSIS, True)  # 6 of 6
    assert fit_sentences(["a", "b", "c", "d"], 7) == ("a\n\nb\n" + ELLIPSIS, True)  # not 9


def test_a_paragraph_cut_at_a_sentence_fills_the_budget_exactly_and_never_more() -> None:
    units = ["a", "One. Two. Three."]
    assert fit_sentences(units, 14) == ("a\n\nOne. Two. " + ELLIPSIS, True)  # 14 of 14
    assert fit_sentences(units, 13) == ("a\n\nOne. " + ELLIPSIS, True)  # "Two." is 1 too many


def test_a_bullet_that_does_not_fit_ends_at_a_sentence() -> None:
    unit = "• First point. Second point is long."
    assert fit_sentences([unit], 20) == ("• First point. " + ELLIPSIS, True)
    assert fit_sentences(["x" * 30], 10) == ("x" * 9 + ELLIPSIS, True)  # no sentence: cut, said so


def test_a_bullet_with_nested_lines_is_kept_or_dropped_whole() -> None:
    nested = "• First point. Second point.\n    ◦ sub"
    assert fit_sentences(["Intro.", nested], 30) == ("Intro.\n" + ELLIPSIS, True)
    indented = "    ◦ First. Second.\n        • deep"  # a nested bullet given on its own
    assert fit_sentences(["• a", indented], 20) == ("• a\n" + ELLIPSIS, True)


# ---------------------------------------------------------------- properties

WORD = st.text(alphabet="abcxyz", min_size=1, max_size=8)
ATOM = st.one_of(
    WORD.map(lambda w: tuple(w)),  # a word: a cut may fall between any two letters
    st.just((" ",)),
    st.sampled_from(["&amp;", "&lt;", "&gt;"]).map(lambda e: (e,)),
    st.tuples(st.sampled_from(["a", "a b", "R&D x", "<3 y"]), WORD).map(
        lambda lw: (link(f"https://x.org/?q={lw[1]}&r=1", lw[0]),)
    ),
    WORD.map(lambda w: (f"<https://x.org/{w}&z>",)),
)
PIECES = st.lists(ATOM, max_size=25).map(lambda atoms: [p for atom in atoms for p in atom])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(pieces=PIECES, spare=st.integers(min_value=0, max_value=80))
def test_truncate_keeps_the_budget_and_cuts_only_between_whole_pieces(
    pieces: list[str], spare: int
) -> None:
    text = "".join(pieces)
    limit = max(1, len(text) - spare)
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
        return
    assert cut.endswith(ELLIPSIS)
    bounds = [len("".join(pieces[:k])) for k in range(len(pieces) + 1)]
    assert any(text[:b].rstrip() == cut[: -len(ELLIPSIS)] for b in bounds), (text, cut)


UNIT = st.one_of(
    st.text(alphabet="ab ", min_size=1, max_size=30).filter(str.strip),
    WORD.map(lambda w: "• " + w),
    WORD.map(lambda w: "1. " + w),
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(units=st.lists(UNIT, min_size=1, max_size=8), limit=st.integers(1, 120))
def test_fit_units_keeps_the_budget_and_whole_units(units: list[str], limit: int) -> None:
    text, trimmed = fit_units(units, limit)
    assert len(text) <= limit
    whole, _ = fit_units(units, 10_000)
    if not trimmed:
        assert text == whole
        return
    assert text.endswith(ELLIPSIS) and text != whole
    shown = text[: -len(ELLIPSIS)]
    prefixes = [fit_units(units[:k], 10_000)[0] + "\n" for k in range(1, len(units))]
    assert shown in prefixes or whole.startswith(shown.rstrip()), (units, limit, text)
