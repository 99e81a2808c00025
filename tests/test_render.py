"""Rendering rules: escaping, Markdown to mrkdwn, Slack's limits, fallback text everywhere."""

from __future__ import annotations

import json

import pytest

from bot.corpus import Corpus, load_corpus
from bot.digest.pool import digest_pool
from bot.render import blocks as bk
from bot.render import slack as render
from bot.render.mrkdwn import escape, fit_units, quote_user_text, to_mrkdwn, to_plain_text, truncate
from bot.search import Index
from tests.conftest import WritePlaybook


def test_markdown_becomes_mrkdwn() -> None:
    md = (
        "Some **bold**, _it_ and `code` with a [link](https://x.org/a?b=1&c=2).\n\n"
        "- one\n  - nested\n- two"
    )
    assert to_mrkdwn(md) == (
        "Some *bold*, _it_ and `code` with a <https://x.org/a?b=1&c=2|link>.\n\n"
        "• one\n    ◦ nested\n• two"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> hi", "&lt;!channel&gt; hi"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("@channel @here @everyone", "@\u2060channel @\u2060here @\u2060everyone"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("<https://evil|click>", "&lt;https://evil|click&gt;"),
    ],
)
def test_user_text_never_pings_or_links(text: str, expected: str) -> None:
    assert escape(text) == expected
    assert quote_user_text(text) == expected


def test_unsafe_link_targets_show_their_text_only() -> None:
    assert to_mrkdwn("[x](javascript:alert(1))") == "x"
    assert to_plain_text("[x](javascript:alert(1))") == "x (javascript:alert(1))"
    assert to_mrkdwn("[a|b](https://x.org/p>q)") == "<https://x.org/p%3Eq|a¦b>"


def test_corpus_text_keeps_special_characters(seed_corpus: Corpus) -> None:
    case_study = seed_corpus.playbooks[0].section("Case study")
    assert case_study is not None
    text = render.passage_mrkdwn(None, case_study, 10_000)
    assert "&lt;3 years old" in text and "AI R&amp;D and" in text
    assert "<https://dl.acm.org/doi/abs/10.1145/3503221.3508417|BaGuaLu>" in text


def test_truncation_never_cuts_inside_a_link() -> None:
    text = "intro " + "<https://example.com/" + "a" * 50 + "|a link> tail"
    for limit in range(8, len(text)):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert cut.count("<") == cut.count(">")


def test_fit_units_trims_at_boundaries() -> None:
    units = ["first paragraph " * 5, "second " * 30, "third"]
    text, trimmed = fit_units(units, 200)
    assert trimmed and text.endswith("\n…") and "second" not in text


def test_a_huge_section_stays_within_every_limit(write_playbook: WritePlaybook) -> None:
    bullets = "".join(
        f"- Point {i} with a [reference number {i}](https://example.com/{i}) and more words "
        f"{'filler ' * 40}\n"
        for i in range(400)
    )
    write_playbook(
        "huge.md", f"---\ntitle: {'Huge ' * 60}\n---\n\n## {'Long heading ' * 20}\n\n{bullets}"
    )
    index = Index(load_corpus([write_playbook.root]))  # type: ignore[attr-defined]
    response = index.search("point reference filler", limit=3)
    messages = [
        render.answer_message(response, 0),
        render.thread_reply(response, index.corpus),
        render.list_message(index.corpus),
        render.section_message(response.results[0].section),
    ]
    for text, blocks in messages:
        assert text and len(text) <= bk.MAX_FALLBACK_TEXT
        assert len(blocks) <= bk.MAX_BLOCKS
        assert len(json.dumps(blocks, ensure_ascii=False)) <= bk.MAX_MESSAGE_CHARS
        for block in blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= bk.MAX_HEADER_TEXT
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= bk.MAX_SECTION_TEXT
                assert block["text"]["text"].count("<") == block["text"]["text"].count(">")
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    assert len(element["text"]["text"]) <= bk.MAX_BUTTON_TEXT
                    assert len(element.get("value", "")) <= bk.MAX_BUTTON_VALUE
    modal = render.section_modal(response.results[0].section)
    assert len(modal["blocks"]) <= 100 and len(modal["title"]["text"]) <= 24
    home = render.home_view(index.corpus, None, None)
    assert len(home["blocks"]) <= bk.MAX_BLOCKS


def test_button_state_survives_a_huge_query(seed_index: Index) -> None:
    response = seed_index.search("pitfalls " + "x" * 5000)
    value = render.result_state(response.query, 0)
    assert len(value) < bk.MAX_BUTTON_VALUE
    assert render.parse_result_state(value)[1] == 0


def test_user_mention_accepts_only_real_ids() -> None:
    assert render.user_mention("U012ABC") == "<@U012ABC>"
    assert render.user_mention("!channel") == "someone"
    assert render.user_mention(None) == "someone"


def test_digest_message_shape(seed_corpus: Corpus) -> None:
    pitfalls = seed_corpus.playbooks[0].section("Potential pitfalls")
    assert pitfalls is not None
    text, blocks = render.render_digest_message(
        pitfalls, pitfalls.items[0], "2026-W48", seed_corpus
    )
    assert text == (
        "Weekly playbook digest: Efforts to create a “Silicon X” across the world"
        " (Regional Innovation Hubs › Potential pitfalls)"
    )
    assert [b["type"] for b in blocks] == ["header", "section", "context", "actions"]
    body = blocks[1]["text"]["text"]
    assert body.startswith("*Efforts to create a “Silicon X” across the world*\nNumerous")
    assert body.endswith("R&amp;D in Tel Aviv. …")  # trimmed at a sentence
    assert blocks[2]["elements"][0]["text"] == (
        "📘 Regional Innovation Hubs › Potential pitfalls · week 2026-W48"
    )
    # one playbook: nothing "more like this" could show
    assert [e["action_id"] for e in blocks[3]["elements"]] == ["open_section"]


def test_every_seed_digest_is_one_item_within_900_characters(seed_corpus: Corpus) -> None:
    for entry in digest_pool(seed_corpus):
        text, blocks = render.render_digest_message(
            entry.section, entry.item, "2026-W48", seed_corpus
        )
        shown = bk.visible_text(blocks)
        assert len(shown) <= render.DIGEST_CHARS, shown
        title = shown.split("\n")[1]
        assert text == bk.fallback_text(
            f"Weekly playbook digest: {title} (Regional Innovation Hubs › {entry.section.heading})"
        )
        assert blocks[1]["text"]["text"].count("<") == blocks[1]["text"]["text"].count(">")
    first = digest_pool(seed_corpus)[0]
    _, blocks = render.render_digest_message(first.section, first.item, "2026-W48", seed_corpus)
    assert blocks[1]["text"]["text"] == (
        "*Regional innovation hubs are a key component of China’s industrial policy to "
        "accelerate its AI industry.*\nChina’s Ministry of Science and Technology (MOST) has "
        "directed at least seventeen cities and counties to create ‘<https://cset.georgetown.edu"
        "/publication/guidelines-for-national-new-generation-artificial-intelligence-innovation-"
        "and-development-pilot-zone-construction-work/|AI pilot zones>’ to advance AI R&amp;D "
        "and commercialization."
    )


def test_digest_where_from_links_and_more_like_this(write_playbook: WritePlaybook) -> None:
    for name in ("a", "b"):
        write_playbook(
            f"{name}.md",
            f"---\ntitle: <!channel> {name} & co\nurl: https://example.org/{name}\n---\n\n"
            "## Case study\n\n- A <@U0BAD> lead. Then more.\n  - a child\n"
            + ("\n## When to use\n\n- Only in a.\n" if name == "a" else ""),
        )
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    case_study = corpus.playbooks[0].section("Case study")
    when = corpus.playbooks[0].section("When to use")
    assert case_study is not None and when is not None
    text, blocks = render.render_digest_message(case_study, case_study.items[0], "2026-W48", corpus)
    assert text == (
        "Weekly playbook digest: A &lt;@U0BAD&gt; lead. (&lt;!channel&gt; a &amp; co › Case study)"
    )
    assert blocks[1]["text"]["text"] == "*A &lt;@U0BAD&gt; lead.*\nThen more.\n\n• a child"
    assert blocks[2]["elements"][0]["text"] == (
        "📘 <https://example.org/a#case-study|&lt;!channel&gt; a &amp; co › Case study>"
        " · week 2026-W48"
    )
    assert [e["action_id"] for e in blocks[3]["elements"]] == ["more_like_this"]  # all shown
    _, blocks = render.render_digest_message(when, when.items[0], "2026-W48", corpus)
    assert [b["type"] for b in blocks] == ["header", "section", "context"]  # no buttons


def test_bot_mention_falls_back_to_at_hubs(seed_corpus: Corpus) -> None:
    assert render.bot_mention("U0HUBSBOT") == "<@U0HUBSBOT>"
    assert render.bot_mention(None) == render.bot_mention("!channel") == "@hubs"
    _, blocks = render.help_message(seed_corpus, None, None)
    assert "• In a thread: @hubs _what went wrong with Silicon X?_" in json.dumps(
        blocks, ensure_ascii=False
    )
