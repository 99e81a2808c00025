"""Slack messages (Block Kit + fallback text) built from corpus objects and search results.

Pure functions, no Bolt: the Slack listeners and the weekly digest share them, so a playbook
passage looks the same wherever it appears. Built on :mod:`bot.render.blocks` (limits) and
:mod:`bot.render.mrkdwn` (escaping, Markdown conversion, trimming at unit boundaries).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import datetime

from bot.corpus import Corpus, Item, Link, Playbook, Section
from bot.render import blocks as bk
from bot.render.mrkdwn import (
    ELLIPSIS,
    escape,
    fit_sentences,
    fit_units,
    link,
    one_line,
    quote_user_text,
    split_sentences,
    to_units,
    truncate,
    visible,
    visible_length,
)
from bot.search import SearchResponse, SearchResult
from bot.search.tokens import terms

PASSAGE_CHARS = 2_800  # under the 3,000 of a section block, with room for a title line
MAX_QUERY_IN_BUTTON = 1_000  # keeps a button value well under Slack's 2,000 chars
MAX_REFERENCES = 6
MODAL_TITLE_CHARS = 24

ACTION_OPEN_SECTION = "open_section"
ACTION_MORE_LIKE_THIS = "more_like_this"
ACTION_SHARE = "share_result"
ACTION_NEXT = "next_result"
ACTION_FEEDBACK = "feedback"  # suffixed _up / _down
FEEDBACK_PATTERN = re.compile(rf"^{ACTION_FEEDBACK}_(up|down)$")
ACTION_SUGGESTION = "suggestion"  # suffixed _0, _1, _2: action ids must be unique per block
SUGGESTION_PATTERN = re.compile(rf"^{ACTION_SUGGESTION}_\d+$")

EXAMPLES = ("pitfalls", "case study china", "when to use", "who wrote this", "further reading")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

Message = tuple[str, list[bk.Block]]
# UX.md's length budgets, in visible characters of the whole message (buttons included):
ANSWER_CHARS = 700  # a `/hubs` answer: the matching items only
THREAD_CHARS = 700  # a thread reply, read by everyone in the thread: one or two items
MIN_MORE_CHARS = 160  # a further item is shown only when this much of it would fit
REFERENCE_SHARE = 0.3  # of a thread reply's room kept for References before the passage fits
DIGEST_CHARS = 900  # the whole digest post as people see it (UX.md's length budget)
DIGEST_TITLE_CHARS = 200
HOME_PLAYBOOKS = 30
_BULLET_MARKER = re.compile(r"^(?:[•◦]|\d+\.) ")


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


def _item_units(markdown: str) -> tuple[str, list[str]]:
    """The first line of an item (a bullet's own text, without its marker) and the units
    after it (the bullet's children, one unit each, then the item's other paragraphs)."""
    units = to_units(markdown)
    if not units:
        return "", []
    head, *children = units[0].split("\n")
    marker = _BULLET_MARKER.match(head)
    if marker:
        head = head[marker.end() :]
    nested: list[str] = []
    for line in children:
        line = line.removeprefix("    ")
        if line.startswith("◦ "):
            line = "• " + line[2:]
        if nested and not line.startswith("• "):
            nested[-1] += "\n" + line
        else:
            nested.append(line)
    return head, [*nested, *units[1:]]


def item_lead(item: Item | None, section: Section) -> tuple[str, list[str]]:
    """An item's lead line as a title (mrkdwn) and the rest as units: a topic's or
    sub-section's own title, else the first sentence of the paragraph or bullet."""
    if item is not None and item.title:
        units = to_units(item.markdown)
        title = escape(item.title)
        return title, units[1:] if units and units[0].strip("*") == title else units
    head, rest = _item_units(item.markdown if item else section.markdown)
    sentences = split_sentences(head)
    if not sentences:
        return escape(section.heading), rest
    title, remainder = sentences[0], " ".join(sentences[1:])
    if visible_length(title) > DIGEST_TITLE_CHARS:  # no sentence end in sight: a teaser
        return truncate(title, DIGEST_TITLE_CHARS), [head, *rest]
    return title, [remainder, *rest] if remainder else rest


def has_sibling(corpus: Corpus, section: Section) -> bool:
    """Does another playbook have a section with this heading ("More like this")?"""
    heading = section.heading.casefold()
    return any(
        s.heading.casefold() == heading and s.playbook_slug != section.playbook_slug
        for s in corpus.sections
    )


def render_digest_message(
    section: Section, item: Item | None, week: str, corpus: Corpus | None = None
) -> tuple[str, list[bk.Block]]:
    """The weekly digest post: one item under its lead line, where it is from, and (only
    when they lead somewhere) the whole section and more like it; at most
    :data:`DIGEST_CHARS` of visible text. ``corpus`` decides "More like this"."""
    kind = "Pitfall" if section.slug == "potential-pitfalls" else "Case study"
    title, units = item_lead(item, section)
    title = title.replace("*", "")  # it goes in bold
    plain_title = visible(title)
    label = f"{section.playbook_title} › {section.heading}"
    where = link(section.url, label) if section.url else escape(label)
    more = corpus is not None and has_sibling(corpus, section)
    frame = [
        bk.header(f"Weekly playbook digest · {kind}"),
        bk.section(f"*{title}*"),
        bk.context(f"📘 {where} · week {week}"),
        bk.actions(
            bk.button(
                "Read the whole section",
                ACTION_OPEN_SECTION,
                section.key,
                url=section.url,
                style="primary",
            ),
            *([bk.button("More like this", ACTION_MORE_LIKE_THIS, section.key)] if more else []),
        ),
    ]
    budget = DIGEST_CHARS - len(bk.visible_text(frame)) - 1
    body, trimmed = fit_sentences([u for u in units if u], budget, visible_length)
    left_out = trimmed or (item is not None and len(section.items) > 1) or item is None
    buttons = frame[3]["elements"][0 if left_out else 1 :]
    blocks = [
        frame[0],
        bk.section(f"*{title}*\n{body}" if body else f"*{title}*"),
        frame[2],
        *([bk.actions(*buttons)] if buttons else []),
    ]
    text = bk.fallback_text(f"Weekly playbook digest: {plain_title} ({label})")
    return text, bk.fit_message(blocks)


# ---------------------------------------------------------------------------- search answers


def result_state(query: str, rank: int) -> str:
    """What a button needs to rebuild an answer: the question and which result, not text."""
    return bk.json_value({"q": query[:MAX_QUERY_IN_BUTTON], "n": rank}, shrink="q")


def parse_result_state(value: str) -> tuple[str, int]:
    data = json.loads(value)
    return str(data["q"]), max(int(data.get("n", 0)), 0)


def feedback_buttons(query: str, section: Section) -> list[dict]:
    """👍 / 👎 on an answer, carrying the question and the section they judge."""
    state = bk.json_value({"q": query[:200], "k": section.key}, shrink="q")
    return [
        bk.button("👍", f"{ACTION_FEEDBACK}_up", state),
        bk.button("👎", f"{ACTION_FEEDBACK}_down", state),
    ]


def parse_feedback(value: str) -> tuple[str, str]:
    data = json.loads(value)
    return str(data["q"]), str(data["k"])


def bot_mention(bot_user_id: str | None) -> str:
    """How to address the bot: its real mention (``<@U…>``, from the installation or
    auth.test) so the name people see is the one they type; ``@hubs`` when unknown."""
    return f"<@{bot_user_id}>" if bot_user_id and _USER_ID.match(bot_user_id) else "@hubs"


def user_mention(user_id: str | None) -> str:
    """``<@U…>`` only for a real user id, so no payload can smuggle in ``<!channel>``."""
    return f"<@{user_id}>" if user_id and _USER_ID.match(user_id) else "someone"


def _reason(result: SearchResult) -> str:
    """Why it matched; the words came from the user, so they are quoted safely."""
    parts = []
    if result.intent:
        typed = (
            f" (you typed “{quote_user_text(result.intent_typed, 60)}”)"
            if result.intent_typed
            else ""
        )
        parts.append(f"matched “{escape(result.intent)}”{typed}")
    spelled = set((result.intent_typed or result.intent or "").split())
    extra = [t for t in result.matched_terms if t not in spelled]
    if extra:
        parts.append("words: " + quote_user_text(", ".join(extra), 120))
    return "; ".join(parts)


@functools.lru_cache(maxsize=2048)
def _visible_terms(mrkdwn: str) -> frozenset[str]:
    """The search terms of what a unit or sentence shows (asked of the same corpus text for
    every answer that shows it)."""
    return frozenset(terms(visible(mrkdwn)))


def _lines(units: Sequence[str]) -> list[str]:
    """Units with each bullet and nested bullet on its own, so a long list item can be cut
    after any of its bullets rather than only before the whole of it."""
    out: list[str] = []
    for unit in units:
        if not unit.lstrip().startswith(("•", "◦")) or "\n" not in unit:
            out.append(unit)
            continue
        first = len(out)
        for line in unit.split("\n"):
            if len(out) > first and not line.lstrip().startswith(("•", "◦")):
                out[-1] += "\n" + line  # a list item's second paragraph stays with it
            else:
                out.append(line)
    return out


def _item_parts(item: Item) -> tuple[str | None, list[str]]:
    """An item's title (mrkdwn, or None) and its body as units."""
    units = to_units(item.markdown)
    if not item.title:
        return None, units
    title = escape(item.title)
    return title, units[1:] if units and units[0].strip("*") == title else units


def _focus(units: list[str], wanted: set[str], room: int) -> list[str]:
    """Start at the first unit, then sentence, holding a word of the question when it would
    otherwise be cut off: asked about Yozma, the sentence naming Yozma is shown, marked as an
    excerpt with "…"."""
    if not wanted:
        return units
    for i, unit in enumerate(units):
        if not wanted & _visible_terms(unit):
            continue
        sentences = split_sentences(unit) if "\n" not in unit else [unit]
        j = next(
            (k for k, sentence in enumerate(sentences) if wanted & _visible_terms(sentence)),
            0,  # the question's word spans a sentence end: from the unit's start
        )
        shown = [*units[:i], " ".join(sentences[: j + 1])]
        if sum(visible_length(u) + 2 for u in shown) <= room:
            return units  # in sight already
        if j == 0:
            return [unit if unit.lstrip().startswith(("•", "◦")) else f"{ELLIPSIS} {unit}"]
        return [f"{ELLIPSIS} " + " ".join(sentences[j:]), *units[i + 1 :]]
    return units


def fit_passage(result: SearchResult, budget: int) -> tuple[str, bool]:
    """The best-matching items (best first; a section matched by name: its first items), as
    much as fits in ``budget`` visible characters, each cut at a sentence or bullet with "…".
    Returns the mrkdwn and whether anything of the section was left out."""
    section = result.section
    items = list(result.items)
    if len(items) == len(section.items) and not all(item.title for item in items):
        items = list(section.items)  # matched by name: the section's own order
    wanted = set(terms(" ".join(result.matched_terms)))
    parts: list[str] = []
    trimmed = False
    for item in items:
        room = budget - (visible_length("\n\n".join(parts)) + 2 if parts else 0)
        if parts and room < MIN_MORE_CHARS:
            break
        title, units = _item_parts(item)
        units = _lines(units)
        if title:
            room -= visible_length(title) + 1
        units = _focus(units, wanted, room)
        body, trimmed = fit_sentences([u for u in units if u], max(room, 1), visible_length)
        if parts and trimmed and visible_length(body) < MIN_MORE_CHARS:
            break  # a sliver of a second item says less than "Open full section"
        parts.append(f"*{title}*\n{body}" if title and body else f"*{title}*" if title else body)
        if trimmed:
            break
    left_out = trimmed or len(parts) < len(section.items)
    return "\n\n".join(parts), left_out


def answer_message(
    response: SearchResponse,
    rank: int = 0,
    *,
    shared_by: str | None = None,
    with_actions: bool = True,
) -> Message:
    """One search result as a message: header, where from and why, the passage, actions."""
    result = response.results[rank]
    section = result.section
    head: list[bk.Block] = [
        bk.header(section.heading),
        bk.context(section_context(section, _reason(result))),
    ]
    if response.partial:
        asked = quote_user_text(response.query, 120)
        head.append(
            bk.context(
                f"Partial answer: nothing in {escape(section.playbook_title)} matches “{asked}” "
                "exactly; this is its nearest section."
            )
        )
    tail: list[bk.Block] = []
    others = [r.section for i, r in enumerate(response.results) if i != rank]
    if others:
        also = " · ".join(f"{escape(s.heading)} ({escape(s.playbook_title)})" for s in others)
        tail.append(bk.context(f"Also matching: {also}"))
    if shared_by:
        tail.append(bk.context(f"Shared by {user_mention(shared_by)} via `/hubs`"))
    buttons: list[dict] = []
    open_button = bk.button("Open full section", ACTION_OPEN_SECTION, section.key)
    if with_actions:
        state = result_state(response.query, rank)
        buttons = [bk.button("Share to channel", ACTION_SHARE, state, style="primary")]
        if rank + 1 < len(response.results):  # callers search one past the shown rank
            buttons.append(bk.button("Next match ›", ACTION_NEXT, state))
        buttons += [open_button, *feedback_buttons(response.query, section)]
    frame = [*head, *tail, *([bk.actions(*buttons)] if buttons else [])]
    # the frame's lines, the passage's line, and the newline between them
    budget = max(ANSWER_CHARS - len(bk.visible_text(frame)) - 1, MIN_MORE_CHARS)
    body, left_out = fit_passage(result, budget)
    if not left_out:  # "Open full section" only when something was left out
        buttons = [b for b in buttons if b is not open_button]
    blocks = [*head, bk.section(body), *tail, *([bk.actions(*buttons)] if buttons else [])]
    text = bk.fallback_text(f"{section.heading} — {section.playbook_title}")
    return text, bk.fit_message(blocks)


def no_match_message(response: SearchResponse) -> Message:
    """Nothing matched: say so kindly, show how to ask, offer the nearest sections."""
    asked = quote_user_text(response.query, 120)
    if response.notice == "empty" or not response.query:
        lead = plain = "What would you like to know? Ask about anything in the playbooks."
    elif response.notice:
        lead = f"I can't search for “{asked}”: {escape(response.notice)}."
        plain = f'I can\'t search for "{one_line(response.query, 120)}": {response.notice}.'
    else:
        lead = f"Nothing in the playbooks matches “{asked}”."
        plain = f'Nothing in the playbooks matches "{one_line(response.query, 120)}".'
    blocks: list[bk.Block] = [
        bk.section(lead),
        bk.context("Try: `/hubs list` · `/hubs pitfalls` · `/hubs case study` · `/hubs help`"),
    ]
    if response.suggestions:
        blocks.append(
            bk.actions(
                *(
                    bk.button(
                        f"{s.playbook_title} › {s.heading}", f"{ACTION_SUGGESTION}_{i}", s.key
                    )
                    for i, s in enumerate(response.suggestions[:3])
                )
            )
        )
    return bk.fallback_text(plain), blocks


def section_message(section: Section, *, with_actions: bool = True) -> Message:
    """A section opened from a suggestion or a digest button: the same shape as an answer."""
    blocks: list[bk.Block] = [
        bk.header(section.heading),
        bk.context(section_context(section)),
        bk.section(passage_mrkdwn(None, section)),
    ]
    if with_actions:
        blocks.append(bk.actions(bk.button("Open full section", ACTION_OPEN_SECTION, section.key)))
    return bk.fallback_text(f"{section.heading} — {section.playbook_title}"), blocks


# ---------------------------------------------------------------------------- threads


def references_for(result: SearchResult, question: str, corpus: Corpus) -> list[Link]:
    """Links inside the matched items first, then the playbook's Further readings that share
    words with the question."""
    seen: set[str] = set()
    refs: list[Link] = []
    for candidate in [lnk for item in result.items for lnk in item.links]:
        if candidate.url not in seen:
            seen.add(candidate.url)
            refs.append(candidate)
    wanted = set(terms(question))
    playbook = corpus.playbook(result.section.playbook_slug)
    readings = playbook.section("Further readings") if playbook else None
    if readings is not None and wanted:
        for reading in readings.links:
            if reading.url not in seen and wanted & set(terms(reading.text)):
                seen.add(reading.url)
                refs.append(reading)
    return refs[:MAX_REFERENCES]


def thread_reply(
    response: SearchResponse, corpus: Corpus, bot_user_id: str | None = None
) -> Message:
    """A visible reply in a thread: the best passage(s) and their references."""
    footer = bk.context(
        f"Ask me in any thread: {bot_mention(bot_user_id)} _your question_ · `/hubs help`"
    )
    if response.no_match:
        text, blocks = no_match_message(response)
        return text, [*blocks[:1], *_suggestion_lines(response.suggestions), footer]
    result = response.results[0]
    section = result.section
    label = f"*{escape(section.playbook_title)} › {escape(section.heading)}*"
    whole = bk.button("Read the whole section", ACTION_OPEN_SECTION, section.key, url=section.url)
    feedback = feedback_buttons(response.query, section)
    frame = [bk.section(label), footer, bk.actions(whole, *feedback)]
    room = THREAD_CHARS - len(bk.visible_text(frame)) - 1  # the passage shares label's block
    refs = references_for(result, response.query, corpus)
    wanted = _references_chars(refs)
    reserve = min(wanted, int(room * REFERENCE_SHARE))
    body, left_out = fit_passage(result, max(room - reserve, MIN_MORE_CHARS))
    # each link once: those already in the passage are not listed again
    refs = [r for r in refs if r.url not in body]
    while refs and visible_length(body) + 1 + _references_chars(refs) > room:
        refs.pop()
    blocks: list[bk.Block] = [bk.section(f"{label}\n{body}")]
    if refs:
        lines = "\n".join(f"• {link(r.url, r.text)}" for r in refs)
        blocks.append(bk.section(f"*References*\n{lines}"))
    blocks.append(footer)
    blocks.append(bk.actions(*([whole] if left_out else []), *feedback))
    return bk.fallback_text(f"{section.playbook_title} › {section.heading}"), bk.fit_message(blocks)


def _references_chars(refs: Sequence[Link]) -> int:
    """Visible length of a *References* block listing ``refs`` (0 for none)."""
    if not refs:
        return 0
    return visible_length("*References*\n" + "\n".join(f"• {link(r.url, r.text)}" for r in refs))


def _suggestion_lines(suggestions: Sequence[Section]) -> list[bk.Block]:
    if not suggestions:
        return []
    lines = " · ".join(f"{escape(s.playbook_title)} › {escape(s.heading)}" for s in suggestions)
    return [bk.context(f"Nearest: {lines}")]


# ---------------------------------------------------------------------------- help, list, home


def digest_line(channel: str | None, next_run: datetime | None) -> str:
    if not channel or next_run is None:
        return "The weekly digest is off: an admin can start it with `/hubs digest here`."
    stamp = int(next_run.timestamp())
    when = f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{next_run:%Y-%m-%d %H:%M %Z}>"
    return f"Weekly digest: a case study or pitfall in <#{channel}>, next on {when}."


def help_message(
    corpus: Corpus,
    digest_channel: str | None,
    next_run: datetime | None,
    bot_user_id: str | None = None,
) -> Message:
    examples = "\n".join(f"• `/hubs {example}`" for example in EXAMPLES)
    counts = f"{len(corpus.playbooks)} playbook(s), {len(corpus.sections)} sections"
    blocks = [
        bk.section(f"*hubs-bot* answers from the team's playbooks ({counts}).\n{examples}"),
        bk.section(
            "• `/hubs list` — every playbook and its sections\n"
            f"• In a thread: {bot_mention(bot_user_id)} _what went wrong with Silicon X?_"
            " — I reply in the thread\n"
            "• On any message: ⋯ › *Find in playbooks*\n"
            "• `/hubs digest here` / `/hubs digest off` — (admins) where the weekly digest goes"
        ),
        bk.context(digest_line(digest_channel, next_run)),
    ]
    return "How to use hubs-bot", blocks


def _playbook_lines(corpus: Corpus) -> list[str]:
    lines = []
    for playbook in corpus.playbooks:
        headings = " · ".join(escape(s.heading) for s in playbook.sections)
        oneliner = f" — {escape(playbook.oneliner)}" if playbook.oneliner else ""
        lines.append(f"*{escape(playbook.title)}*{oneliner}\n{headings}")
    return lines


def list_message(corpus: Corpus) -> Message:
    lines = _playbook_lines(corpus)
    if not lines:
        return "No playbooks yet", [bk.section("No playbooks are loaded yet.")]
    blocks = [bk.header(f"{len(lines)} playbook(s)")]
    chunk: list[str] = []
    for line in lines:  # several playbooks per block, never over a block's 3,000 chars
        if chunk and len("\n\n".join([*chunk, line])) > bk.MAX_SECTION_TEXT:
            blocks.append(bk.section("\n\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(bk.section("\n\n".join(chunk)))
    return f"{len(lines)} playbook(s)", bk.fit_message(blocks)


def playbook_tags(playbook: Playbook) -> str:
    """``Stage: Catalytic, Growth · Domain: … · Type: …`` (labels only for tags present)."""
    groups = (("Stage", playbook.stage), ("Domain", playbook.domain), ("Type", playbook.type))
    return " · ".join(
        f"{label}: {', '.join(escape(t) for t in tags)}" for label, tags in groups if tags
    )


def home_view(
    corpus: Corpus,
    digest_channel: str | None,
    next_run: datetime | None,
    bot_user_id: str | None = None,
) -> dict:
    """The App Home tab: what the bot is, what it knows, how to ask, when the digest posts."""
    _, help_blocks = help_message(corpus, digest_channel, next_run, bot_user_id)
    shown = corpus.playbooks[:HOME_PLAYBOOKS]
    playbook_blocks = []
    for playbook in shown:
        tags = playbook_tags(playbook)
        oneliner = f"\n{escape(playbook.oneliner)}" if playbook.oneliner else ""
        playbook_blocks.append(
            bk.section(
                f"*{escape(playbook.title)}* ({len(playbook.sections)} sections){oneliner}"
                + (f"\n_{tags}_" if tags else "")
            )
        )
    if len(corpus.playbooks) > len(shown):
        playbook_blocks.append(
            bk.context(f"{len(shown)} of {len(corpus.playbooks)} — `/hubs list` for all")
        )
    blocks = [
        bk.header("hubs-bot"),
        *help_blocks,
        bk.divider(),
        bk.header("Playbooks"),
        *playbook_blocks,
    ]
    return {"type": "home", "blocks": bk.fit_message(blocks[: bk.MAX_BLOCKS])}


def section_modal(section: Section) -> dict:
    """The whole section in a modal (100 blocks, 3,000 chars each: long sections still fit)."""
    chunks: list[str] = []
    current: list[str] = []
    for unit in to_units(section.markdown):
        if current and len("\n\n".join([*current, unit])) > PASSAGE_CHARS:
            chunks.append("\n\n".join(current))
            current = []
        current.append(unit)
    if current:
        chunks.append("\n\n".join(current))
    title = section.heading
    if len(title) > MODAL_TITLE_CHARS:
        title = title[: MODAL_TITLE_CHARS - 1] + "…"
    blocks = [bk.context(section_context(section)), *(bk.section(c) for c in chunks)]
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks[:100],
    }


# ---------------------------------------------------------------------------- link unfurls

UNFURL_CHARS = 300  # a preview under a pasted link: a glance, the rest one click away


def unfurl_blocks(target: Playbook | Section) -> list[bk.Block]:
    """The preview Slack shows under a pasted playbook link (``chat.unfurl``): a playbook's
    title and one-liner; a section's heading, its playbook and the start of its first item
    (about :data:`UNFURL_CHARS` visible characters), with *Open full section*."""
    if isinstance(target, Playbook):
        oneliner = f"\n{escape(target.oneliner)}" if target.oneliner else ""
        headings = " · ".join(escape(s.heading) for s in target.sections)
        return [
            bk.section(f"📘 *{escape(target.title)}*{oneliner}"),
            bk.context(f"{len(target.sections)} sections: {headings}"),
        ]
    section = target
    item = section.items[0] if section.items else None
    title, units = _item_parts(item) if item else (None, to_units(section.markdown))
    room = UNFURL_CHARS - (visible_length(title) + 1 if title else 0)
    body, _ = fit_sentences([u for u in _lines(units) if u], max(room, 1), visible_length)
    excerpt = "\n".join(part for part in (f"*{title}*" if title else "", body) if part)
    return [
        bk.section(f"*{escape(section.heading)}* · {escape(section.playbook_title)}"),
        *([bk.section(excerpt)] if excerpt else []),
        bk.actions(bk.button("Open full section", ACTION_OPEN_SECTION, section.key)),
    ]
