"""Block Kit primitives that enforce Slack's limits, so no message is rejected for size.

Limits (https://api.slack.com/reference/block-kit): 50 blocks a message, 3,000 characters in a
section's text, 150 in a header and in a button label (75), 2,000 in a button value,
10 context elements, 25 actions elements, and 40,000 characters for the whole message.
Builders return plain ``dict``s: Slack's JSON, nothing wrapped.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from bot.render.mrkdwn import escape, one_line, truncate, visible

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_MESSAGE_CHARS = 40_000
MAX_FALLBACK_TEXT = 3000


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": one_line(text, limit) or " ", "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": _plain(text, MAX_HEADER_TEXT)}


def section(mrkdwn: str, *, block_id: str | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn, MAX_SECTION_TEXT) or " "},
    }
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def context(*mrkdwn_elements: str) -> Block:
    elements = [
        {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}
        for text in mrkdwn_elements[:MAX_CONTEXT_ELEMENTS]
        if text
    ]
    return {"type": "context", "elements": elements}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    url: str | None = None,
    style: Literal["primary", "danger"] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
    }
    if value is not None:
        if len(value) > MAX_BUTTON_VALUE:
            raise ValueError(f"button value is {len(value)} chars; Slack allows {MAX_BUTTON_VALUE}")
        element["value"] = value
    if url:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[:MAX_ACTIONS_ELEMENTS])}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def fallback_text(text: str) -> str:
    """The notification / screen-reader text every message carries beside its blocks, from
    raw (unescaped) text: escaped exactly like block text, so a title or question holding
    ``<!channel>`` or ``<@U…>`` pings nobody from a notification either."""
    return escape(one_line(text, MAX_FALLBACK_TEXT // 2))  # room for escaping (&amp;)


def json_value(data: dict[str, Any], shrink: str) -> str:
    """A button value as JSON, within Slack's 2,000 characters whatever the text in it:
    ``data[shrink]`` (the question) is shortened until it fits (quotes and backslashes double
    in JSON, so a character count alone does not bound it)."""
    text = str(data[shrink])
    while True:
        value = json.dumps({**data, shrink: text}, ensure_ascii=False)
        if len(value) <= MAX_BUTTON_VALUE or not text:
            return value
        text = text[: max(0, len(text) - (len(value) - MAX_BUTTON_VALUE) - 1)]


def fit_message(blocks: list[Block]) -> list[Block]:
    """Drop trailing content blocks until the message fits 50 blocks and 40,000 chars,
    keeping a final ``actions`` block (the buttons) if there is one."""
    tail = [blocks[-1]] if blocks and blocks[-1].get("type") == "actions" else []
    body = blocks[: len(blocks) - len(tail)]
    while body and (
        len(body) + len(tail) > MAX_BLOCKS
        or len(json.dumps(body + tail, ensure_ascii=False)) > MAX_MESSAGE_CHARS
    ):
        body.pop()
    return body + tail


def visible_text(blocks: list[Block], names: dict[str, str] | None = None) -> str:
    """A message as a person reads it, one line per block (buttons as ``(label)``): what
    length budgets measure and what the README shows. ``names``: see
    :func:`~bot.render.mrkdwn.visible`."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(block["text"]["text"])
        elif kind == "section":
            lines.append(visible(block["text"]["text"], names))
        elif kind == "context":
            lines.append(" ".join(visible(e.get("text", ""), names) for e in block["elements"]))
        elif kind == "actions":
            lines.append(" ".join(f"({e['text']['text']})" for e in block["elements"]))
    return "\n".join(lines)
