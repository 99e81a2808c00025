"""Slack messages (Block Kit + fallback text) built from corpus objects and search results.

Pure functions, no Bolt: the Slack listeners and the weekly digest share them, so a playbook
passage looks the same wherever it appears. Built on :mod:`bot.blocks` (limits) and
:mod:`bot.mrkdwn` (escaping, Markdown conversion, trimming at unit boundaries).
"""

from __future__ import annotations

from bot import blocks as bk
from bot.corpus import Item, Section
from bot.mrkdwn import escape, fit_units, to_units

PASSAGE_CHARS = 2_800  # under the 3,000 of a section block, with room for a title line

ACTION_OPEN_SECTION = "open_section"
ACTION_MORE_LIKE_THIS = "more_like_this"


def passage_mrkdwn(item: Item | None, section: Section, limit: int = PASSAGE_CHARS) -> str:
    """An item (or a whole section) as mrkdwn: its title in bold, then the body trimmed at a
    paragraph or bullet boundary."""
    units = to_units(item.markdown if item else section.markdown)
    title = item.title if item else None
    if title and units and units[0] == escape(title):
        units = units[1:]  # a lead line is the title, not body text
    body, _ = fit_units(units, limit - (len(title) + 6 if title else 0))
    return f"*{escape(title)}*\n{body}" if title else body


def section_context(section: Section, *extra: str) -> str:
    parts = [f"📘 {escape(section.playbook_title)}", escape(section.heading), *extra]
    return " · ".join(p for p in parts if p)


def render_digest_message(
    section: Section, item: Item | None, week: str
) -> tuple[str, list[bk.Block]]:
    """The weekly digest post: kind, the item, where it is from, and what to do next."""
    kind = "Pitfall" if section.slug == "potential-pitfalls" else "Case study"
    title = (item.title if item else None) or section.heading
    blocks = [
        bk.header(f"Weekly hub digest · {kind}"),
        bk.section(passage_mrkdwn(item, section)),
        bk.context(section_context(section, f"week {week}")),
        bk.actions(
            bk.button(
                "Read the whole section",
                ACTION_OPEN_SECTION,
                section.key,
                url=section.url,
                style="primary",
            ),
            bk.button("More like this", ACTION_MORE_LIKE_THIS, section.key),
        ),
    ]
    text = bk.fallback_text(f"Weekly hub digest · {kind}: {title} — {section.playbook_title}")
    return text, bk.fit_message(blocks)
