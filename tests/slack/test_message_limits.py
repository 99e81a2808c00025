"""Property: every message the bot sends, built from hostile corpora and questions, is valid
Block Kit within Slack's limits and pings nobody.

Hypothesis (fixed seed, bounded examples) writes a playbook whose title, headings, items and
links hold mention syntax (``<!channel>``, ``<!here>``, ``<@U…>``), raw Slack links, mrkdwn,
long runs of quotes and very long headings, then builds each kind of message from it and a
generated question: answer, no-match, thread reply, section message and modal, App Home,
digest, help and list. slack_sdk's Block Kit models check the element limits."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.corpus import load_corpus
from bot.render import blocks as bk
from bot.render import slack as render
from bot.search import Index

PINGS = ("<!channel>", "<!here>", "<!everyone>", "<@U0BADBAD1>", "<https://evil.example|click>")
hostile_piece = st.sampled_from(
    [*PINGS, "&", "*bold*", "`code`", "_it_", "~x~", '"' * 40, "\\", "pitfalls", "china", " "]
)
hostile_text = st.lists(
    st.one_of(hostile_piece, st.text(min_size=1, max_size=12)), min_size=1, max_size=12
).map(" ".join)
long_heading = st.integers(min_value=100, max_value=2500).map(lambda n: "Case study " + "x" * n)
question = st.one_of(
    hostile_text,
    st.just("pitfalls " + '"' * 1500),
    st.just("pitfalls"),
    st.just("case study"),
    st.text(max_size=60),
)
MESSAGE_LIMITS = settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "x"


def _playbook(title: str, heading: str, item: str, link_text: str) -> str:
    return (
        f"---\ntitle: {json.dumps(_one_line(title))}\n---\n\n"
        f"## Potential pitfalls\n\n{_one_line(item)}\n\nMore about {_one_line(item)}\n\n"
        f"## {_one_line(heading)}\n\n- {_one_line(item)} [{_one_line(link_text)}]"
        "(https://example.org/a)\n- second bullet\n\n"
        f"## Further readings\n\n- [{_one_line(link_text)}](https://example.org/b)\n"
    )


def _mrkdwn_only(value: Any) -> list[str]:
    """mrkdwn texts only: a plain_text object's string is not parsed by Slack."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            return [str(value.get("text", ""))]
        if value.get("type") == "plain_text":
            return []
        return [t for k, v in value.items() if k not in ("value", "url") for t in _mrkdwn_only(v)]
    if isinstance(value, list):
        return [t for v in value for t in _mrkdwn_only(v)]
    return []


def _check_blocks(blocks: list[dict], max_blocks: int) -> None:
    assert len(blocks) <= max_blocks
    assert len(json.dumps(blocks)) <= bk.MAX_MESSAGE_CHARS * 2  # JSON escapes add some
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= bk.MAX_BUTTON_VALUE
            url = element.get("url")
            assert url is None or (url.startswith(("https://", "http://")) and len(url) <= 3000)


def _check_no_pings(fallback: str, blocks: Any) -> None:
    for text in [fallback, *_mrkdwn_only(blocks)]:
        for ping in PINGS:
            assert ping not in text, f"{ping!r} reached Slack in {text[:200]!r}"


@MESSAGE_LIMITS
@given(
    title=hostile_text,
    heading=st.one_of(hostile_text, long_heading),
    item=hostile_text,
    link_text=hostile_text,
    asked=question,
)
def test_every_message_is_valid_and_pings_nobody(
    title: str, heading: str, item: str, link_text: str, asked: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hostile.md"
        path.write_text(_playbook(title, heading, item, link_text), encoding="utf-8")
        corpus = load_corpus([Path(tmp)])
    if not corpus.playbooks:
        return  # a title YAML cannot hold: the loader's own tests cover that
    index = Index(corpus)
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    messages = []
    response = index.search(asked, limit=3)
    if response.results:
        messages.append(render.answer_message(response, 0))
    messages.append(render.no_match_message(index.search("zzqx " + asked)))
    messages.append(render.thread_reply(response, corpus))
    for section in corpus.sections:
        messages.append(render.section_message(section))
        items = section.items or (None,)
        messages.append(render.render_digest_message(section, items[0], "2026-W49"))
        modal = render.section_modal(section)
        _check_blocks(modal["blocks"], 100)
        _check_no_pings("", modal)
    messages.append(render.help_message(corpus, "C1", now))
    messages.append(render.list_message(corpus))
    home = render.home_view(corpus, "C1", now)
    _check_blocks(home["blocks"], 100)
    _check_no_pings("", home)
    for text, blocks in messages:
        assert 0 < len(text) <= bk.MAX_FALLBACK_TEXT
        _check_blocks(blocks, bk.MAX_BLOCKS)
        _check_no_pings(text, blocks)
