"""mrkdwn's promises, pinned exactly: what a link's URL may contain, what escaping turns into
what, and how each Markdown shape the playbooks use is laid out (in mrkdwn and plain text).

Each assertion states one output in full, so that replacing one character, one marker or one
indent in bot/render/mrkdwn.py fails a test (bench/mutation.sh checks that it does)."""

from __future__ import annotations

import html

import pytest

from bot.render.mrkdwn import (
    ELLIPSIS,
    escape,
    fit_sentences,
    fit_units,
    link,
    one_line,
    quote_user_text,
    safe_url,
    to_mrkdwn,
    to_plain_text,
    to_units,
    truncate,
)

# ---------------------------------------------------------------- URLs and links


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.org/a|b", "https://x.org/a%7Cb"),  # | would end the URL: <url|label>
        ("https://x.org/a>b", "https://x.org/a%3Eb"),  # > would end the link
        ("https://x.org/a<b", "https://x.org/a%3Cb"),  # < would open another
        ("https://x.org/a b", "https://x.org/a%20b"),  # a space would end it in Slack
        ("https://x.org/|<> |", "https://x.org/%7C%3C%3E%20%7C"),  # every one, every time
        ("  https://x.org/p?q=1&r=2  ", "https://x.org/p?q=1&r=2"),  # & is fine in a URL
        ("HTTPS://X.org/", "HTTPS://X.org/"),  # schemes are case-insensitive
        ("http://x.org", "http://x.org"),
        ("mailto:hubs@example.org", "mailto:hubs@example.org"),
    ],
)
def test_a_safe_url_cannot_break_out_of_its_link(url: str, expected: str) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://x.org/f", "data:text/html,x", "x.org/no-scheme", ""]
)
def test_other_schemes_are_never_links(url: str) -> None:
    assert safe_url(url) is None


def test_a_link_label_is_escaped_and_cannot_close_the_link() -> None:
    assert link("https://x.org/a b", "a | b  <c> & d") == (
        "<https://x.org/a%20b|a ¦ b &lt;c&gt; &amp; d>"
    )
    assert link("https://x.org", "") == "<https://x.org|https://x.org>"  # never an empty label
    assert link("https://x.org/<a>", "  ") == "<https://x.org/%3Ca%3E|https://x.org/&lt;a&gt;>"
    assert link("javascript:alert(1)", "click <here>") == "click &lt;here&gt;"  # text only


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("&lt;", "&amp;lt;"),  # text that looks escaped is shown as typed, not decoded
        ("<!subteam^S1>", "&lt;!subteam^S1&gt;"),
        ("@Channel, @HERE!", "@\u2060Channel, @\u2060HERE!"),
        ("mail@channels.org @heretic", "mail@channels.org @heretic"),  # whole words only
    ],
)
def test_escaping_is_exact(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_echoed_user_text_over_200_characters_is_cut_to_200_as_read() -> None:
    question = "why did " + "the hub & its <partners> " * 20 + "fail?"
    shown = quote_user_text(question)
    assert "<" not in shown and ">" not in shown
    visible = html.unescape(shown)
    assert len(visible) == 200 and visible.endswith(ELLIPSIS)
    assert visible[:-1] == question[:199].rstrip()
    # the cut comes before escaping: no escape is ever split
    assert shown == escape(question[:199].rstrip()) + ELLIPSIS


def test_echoed_user_text_is_one_line_and_within_its_own_limit() -> None:
    assert quote_user_text("  line one\n\tline   two  ") == "line one line two"
    assert quote_user_text("x" * 200) == "x" * 200  # exactly at the limit: not cut
    assert quote_user_text("x" * 201) == "x" * 199 + ELLIPSIS
    assert quote_user_text("abcdef <ghij>", limit=8) == "abcdef" + ELLIPSIS
    assert one_line("a" * 9 + " b", 10) == "a" * 9 + ELLIPSIS  # no dangling space before …


# ---------------------------------------------------------------- layout


def test_ordered_lists_keep_their_numbers_on_consecutive_lines() -> None:
    md = "1. one\n2. two\n3. three\n\nAfter."
    assert to_mrkdwn(md) == "1. one\n2. two\n3. three\n\nAfter."
    assert to_plain_text(md) == "1. one\n2. two\n3. three\n\nAfter."


def test_lists_nested_three_deep_alternate_markers_and_indent_four_spaces() -> None:
    md = "- a\n  - b\n    - c\n      - d\n- e"
    assert to_mrkdwn(md) == "• a\n    ◦ b\n        • c\n            ◦ d\n• e"
    assert to_units(md) == ["• a\n    ◦ b\n        • c\n            ◦ d", "• e"]


def test_an_ordered_list_inside_a_bullet_is_numbered_and_indented() -> None:
    md = "- steps:\n  1. plan\n  2. fund\n- done"
    assert to_mrkdwn(md) == "• steps:\n    1. plan\n    2. fund\n• done"


def test_an_item_of_several_paragraphs_stays_one_unit_with_its_continuation_indented() -> None:
    md = "- first paragraph\n\n  second paragraph of the same item\n- next item"
    assert to_units(md) == ["• first paragraph\n  second paragraph of the same item", "• next item"]
    assert to_mrkdwn(md) == "• first paragraph\n  second paragraph of the same item\n• next item"


def test_text_after_a_nested_list_stays_in_its_item() -> None:
    md = "- a\n\n  - b\n\n  more text\n- c"
    assert to_units(md) == ["• a\n    ◦ b\n  more text", "• c"]


def test_paragraphs_are_separated_by_a_blank_line_and_bullets_are_not() -> None:
    md = "One.\n\nTwo.\n\n- x\n- y\n\nThree."
    assert to_mrkdwn(md) == "One.\n\nTwo.\n\n• x\n• y\n\nThree."


def test_a_nested_bullet_given_as_its_own_line_stays_right_under_its_parent() -> None:
    """Callers that cut a list item into its lines join them again: an indented ``◦`` line
    is a bullet too, so no blank line opens between it and the one above."""
    lines = ["• a", "    ◦ b", "    ◦ c", "after"]
    assert fit_sentences(lines, 100) == ("• a\n    ◦ b\n    ◦ c\n\nafter", False)


def test_a_paragraph_that_merely_starts_with_a_number_is_not_a_list_item() -> None:
    assert to_mrkdwn("1. a\n\n1st. place goes to x") == "1. a\n\n1st. place goes to x"
    assert to_mrkdwn("- a\n\n2b. or not") == "• a\n\n2b. or not"


def test_plain_output_has_no_markup_no_escapes_and_spells_out_links() -> None:
    md = (
        "# Title\n\nSome **bold**, _it_, `a<b` & [the source](https://x.org/s).\n\n"
        "- [https://x.org](https://x.org)\n\n> quoted\n\n```\nif a < b:\n```"
    )
    assert to_plain_text(md) == (
        "Title\n\nSome bold, it, a<b & the source (https://x.org/s).\n\n"
        "• https://x.org\n\n> quoted\n\nif a < b:"
    )
    assert to_mrkdwn(md) == (
        "*Title*\n\nSome *bold*, _it_, `a&lt;b` &amp; <https://x.org/s|the source>.\n\n"
        "• <https://x.org|https://x.org>\n\n> quoted\n\n```if a &lt; b:```"
    )


def test_line_breaks_html_and_images() -> None:
    assert to_mrkdwn("one  \ntwo\nthree") == "one\ntwo three"  # hard break kept, soft folded
    assert to_mrkdwn("<b>x & y</b>\n\np") == "&lt;b&gt;x &amp; y&lt;/b&gt;\n\np"
    assert to_plain_text("<b>x & y</b>\n\np") == "<b>x & y</b>\n\np"
    assert to_mrkdwn("![a <b>](https://img)") == "a &lt;b&gt;"


def test_an_ordered_list_is_numbered_from_one_whatever_its_start_number() -> None:
    assert to_mrkdwn("3. x\n4. y") == "1. x\n2. y"


def test_a_tight_item_is_one_line_and_a_loose_items_paragraphs_are_lines() -> None:
    tight = "- see *this*\n  and [that](https://x.org)\n- c"
    assert to_units(tight) == ["• see _this_ and <https://x.org|that>", "• c"]
    assert to_units(tight, plain=True) == ["• see this and that (https://x.org)", "• c"]
    loose = "- see *this*\n\n  and [that](https://x.org)\n- c"
    assert to_units(loose) == ["• see _this_\n  and <https://x.org|that>", "• c"]


def test_a_heading_or_a_quote_inside_an_item_is_a_line_of_it_without_its_markup() -> None:
    assert to_units("- a\n  # H\n  b\n- c") == ["• a\n  H\n  b", "• c"]
    md = "- a\n  > quoted\n  > - b\n- c"
    assert to_units(md) == ["• a\n  quoted\n    ◦ b", "• c"]


def test_code_and_html_blocks_inside_an_item_are_left_out() -> None:
    md = "- a\n\n  ```\n  code\n  ```\n\n  <div>\n  x\n  </div>\n\n  after\n- b"
    assert to_units(md) == ["• a\n  after", "• b"]


def test_a_quote_of_several_paragraphs_marks_every_line() -> None:
    assert to_mrkdwn("> one two\n>\n> three") == "> one two\n> three"
    # a unit of several lines (a nested list, a hard break) has each of them marked
    md = "> - a\n>   - b\n>\n> c  \n> d"
    assert to_mrkdwn(md) == "> • a\n>     ◦ b\n> c\n> d"


@pytest.mark.parametrize(
    ("markdown", "mrkdwn", "plain"),
    [
        pytest.param(
            "<div>\nx & y\n</div>\n\np",
            "&lt;div&gt;\nx &amp; y\n&lt;/div&gt;\n\np",
            "<div>\nx & y\n</div>\n\np",
            id="an HTML block is shown as text",
        ),
        pytest.param(
            "[click](javascript:alert(1)) [x]()",
            "click x",
            "click (javascript:alert(1)) x",
            id="an unsafe link shows its label only, plain text spells it out",
        ),
    ],
)
def test_in_mrkdwn_and_in_plain_text(markdown: str, mrkdwn: str, plain: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn
    assert to_plain_text(markdown) == plain


def test_a_code_block_is_verbatim_but_its_last_newline() -> None:
    assert to_mrkdwn("```\nline one  \n```") == "```line one  ```"
    assert to_mrkdwn("```\necho $X\n```") == "```echo $X```"


def test_link_labels_and_alt_texts_are_their_text() -> None:
    md = "[a\nb](https://x.org) [c  \nd](https://x.org) [x ![img](i)](https://x.org)"
    assert to_mrkdwn(md) == "<https://x.org|a b> <https://x.org|c d> <https://x.org|x img>"
    assert to_plain_text(md) == "a b (https://x.org) c d (https://x.org) x img (https://x.org)"
    assert to_plain_text("![a <b>](https://img)") == "a <b>"
    emphasised = "[**bold** _it_ `code` text](https://x.org) ![alt *e*](i)"
    assert to_mrkdwn(emphasised) == "<https://x.org|bold it code text> alt e"
    assert to_plain_text(emphasised) == "bold it code text (https://x.org) alt e"


def test_containers_nested_past_the_limit_are_flattened_into_their_parent() -> None:
    """Past 32 levels (the corpus's own limit) a container's text joins its parent's: no
    markup, no recursion, and what follows is where it belongs."""
    quoted = "> " * 31  # 31 quotes and their paragraph: 32 levels
    assert to_units(quoted + "***deep*** text\n\nafter") == [quoted + "deep text", "after"]
    deep_list = "- " * 1000 + "x\n\nafter"  # each item opens with a list: no outer markers
    assert to_units(deep_list) == ["    " * 15 + "◦ x", "after"]
    past = "> " * 32  # the paragraph is the 33rd level: its text lands straight in a quote
    assert to_units(past + "*x* y\n\nafter") == [past + "x y", "after"]


# ---------------------------------------------------------------- cutting


def test_truncation_never_splits_an_escape() -> None:
    text = "word " * 8 + "&amp; tail"
    for limit in range(10, len(text)):
        cut = truncate(text, limit)
        assert len(cut) <= limit and cut.endswith(ELLIPSIS)
        tail = cut[cut.rfind("&") :] if "&" in cut else ""
        assert not tail or tail.startswith("&amp;"), cut


def test_text_within_the_limit_is_untouched() -> None:
    assert truncate("abc", 3) == "abc"
    assert fit_units(["a", "b"], 100) == ("a\n\nb", False)
    assert fit_units(["• a", "• b"], 100) == ("• a\n• b", False)


def test_fit_units_keeps_the_first_unit_even_when_alone_it_is_too_long() -> None:
    text, trimmed = fit_units(["x " * 100], 50)
    assert trimmed and len(text) <= 50 and text.endswith(ELLIPSIS)
    text, trimmed = fit_units(["short", "y" * 100], 50)
    assert (text, trimmed) == ("short\n" + ELLIPSIS, True)
