"""Search responses for the terminal: readable text and the JSON contract of ``ask --json``.

Slack's Block Kit rendering lives in :mod:`bot.render.slack`; both read the same
:class:`~bot.search.SearchResponse`, so the CLI shows exactly what Slack would answer.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from bot.corpus import Section
from bot.render.mrkdwn import fit_units, to_plain_text, to_units
from bot.search import SearchResponse, SearchResult

TERMINAL_EXCERPT_CHARS = 700


def section_label(section: Section) -> str:
    return f"{section.playbook_title} › {section.heading}"


def source_of(section: Section) -> str:
    """``path:line`` relative to the working directory when that is shorter."""
    path = Path(section.path)
    try:
        shown = os.path.relpath(path)
        if len(shown) > len(str(path)):
            shown = str(path)
    except ValueError:
        shown = str(path)
    return f"{shown}:{section.line}"


def result_to_dict(result: SearchResult) -> dict[str, Any]:
    section = result.section
    data: dict[str, Any] = {
        "playbook": section.playbook_title,
        "section": section.heading,
        "score": result.score,
        "text": to_plain_text(section.markdown),
        "items": [to_plain_text(item.markdown) for item in result.items],
        "matched": result.reason,
        "source": source_of(section),
        "links": [{"text": link.text, "url": link.url} for link in section.links],
    }
    if section.url:
        data["url"] = section.url
    return data


def response_to_dict(response: SearchResponse) -> dict[str, Any]:
    """The ``ask --json`` object: ``{"query", "results": [...]}`` plus context keys."""
    data: dict[str, Any] = {
        "query": response.query,
        "results": [result_to_dict(r) for r in response.results],
    }
    if response.corrections:
        data["corrected"] = dict(response.corrections)
    if response.playbook is not None:
        data["playbook"] = response.playbook.title
    if response.notice:
        data["notice"] = response.notice
    if response.partial:
        data["partial"] = True
    if response.no_match:
        data["suggestions"] = [section_label(s) for s in response.suggestions]
    return data


def format_response(response: SearchResponse, width: int = 88) -> str:
    """Human-readable answer: label, score and source, the matching passage, its links."""
    if response.no_match:
        return _format_no_match(response)
    lines: list[str] = []
    if response.notice:
        lines.append(f"note: {response.notice}")
    if response.partial and response.playbook is not None:
        lines.append(
            f"note: partial answer: nothing in {response.playbook.title} matched the rest of "
            f"{response.query!r}; its nearest sections:"
        )
    if response.corrections:
        fixed = ", ".join(f"{typed!r} → {word!r}" for typed, word in response.corrections)
        lines.append(f"note: searched for {response.corrected_query!r} ({fixed})")
    for rank, result in enumerate(response.results, 1):
        section = result.section
        lines.append(f"{rank}. {section_label(section)}   score {result.score:.2f}")
        lines.append(f"   {result.reason} · {source_of(section)}")
        units = [u for item in result.items for u in to_units(item.markdown, plain=True)]
        excerpt, _ = fit_units(units, TERMINAL_EXCERPT_CHARS)
        for paragraph in excerpt.split("\n"):
            wrapped = textwrap.wrap(
                paragraph,
                width,
                initial_indent="   ",
                subsequent_indent="     ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            lines.extend(wrapped or [""])
        links = [link for item in result.items for link in item.links] or list(section.links)
        if links:
            lines.append("   links:")
            lines.extend(f"     - {link.text}: {link.url}" for link in links[:6])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _format_no_match(response: SearchResponse) -> str:
    if response.notice == "empty":
        head = "Ask about something in the playbooks, e.g. `hubs-bot ask pitfalls`."
    elif response.notice:
        head = f"Nothing to search for in {response.query!r}: {response.notice}."
    else:
        head = f"Nothing in the playbooks matches {response.query!r}."
    lines = [head]
    if response.suggestions:
        lines.append("Try one of these:")
        lines.extend(f"  - {section_label(s)}" for s in response.suggestions)
    return "\n".join(lines) + "\n"
