"""The README's "What people see" examples, generated from the seed corpus (never written by
hand): each message as Slack shows it, via :func:`bot.render.blocks.visible_text`.

``python -m tests.readme_examples`` prints the Markdown; tests/test_docs.py checks that the
README holds exactly it."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

from bot.bundled import BUNDLED_CORPUS
from bot.corpus import load_corpus
from bot.digest.pool import digest_pool
from bot.render import blocks as bk
from bot.render import slack as render
from bot.search import Index

BOT = "U0HUBS"
NAMES = {BOT: "hubs", "C0DIGEST": "playbook-digest"}
WIDTH = 96


def _shown(blocks: list[bk.Block]) -> str:
    lines = bk.visible_text(blocks, NAMES).split("\n")
    return "\n".join(_wrap(line) for line in lines)


def _wrap(line: str) -> str:
    """A long line folded to the README's width, continuation lines under its text."""
    indent = " " * (len(line) - len(line.lstrip()) + (2 if line.lstrip()[:1] in "•◦" else 0))
    return textwrap.fill(line, WIDTH, subsequent_indent=indent) if line.strip() else ""


def examples() -> str:
    corpus = load_corpus([BUNDLED_CORPUS])
    index = Index(corpus)
    pitfall = next(p for p in digest_pool(corpus) if p.section.slug == "potential-pitfalls")
    monday = datetime(2026, 11, 30, 9, tzinfo=UTC)
    messages = [
        ("`/hubs chips act` (only you see it)", render.answer_message(index.search("chips act"))),
        ("`/hubs pitfalls` (trimmed)", render.answer_message(index.search("pitfalls"))),
        (
            "`@hubs what went wrong with Silicon X?` (a reply in the thread)",
            render.thread_reply(index.search("what went wrong with Silicon X?", 2), corpus, BOT),
        ),
        (
            "`/hubs quantum error correction` (no match)",
            render.no_match_message(index.search("quantum error correction")),
        ),
        (
            "The weekly digest (a channel post)",
            render.render_digest_message(pitfall.section, pitfall.item, "2026-W49", corpus),
        ),
        ("`/hubs help`", render.help_message(corpus, "C0DIGEST", monday, BOT)),
    ]
    parts = []
    for title, (text, blocks) in messages:
        shown = _shown(blocks)
        count = len(bk.visible_text(blocks, NAMES))
        parts.append(
            f"**{title}** — {count} characters; notification: “{text}”\n\n```text\n{shown}\n```\n"
        )
    return "\n".join(parts)


if __name__ == "__main__":
    print(examples(), end="")
