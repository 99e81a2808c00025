"""From Slack text to a question, and from a question to the message that answers it."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.observability import metrics
from bot.observability.logs import add_to_request_line
from bot.render import slack as render
from bot.search import SearchResponse
from bot.search.tokens import is_stopword, words

if TYPE_CHECKING:
    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_LABELLED = re.compile(r"<(?:https?://|mailto:|#C)[^|>]*\|([^>]*)>")
_CONTROL = re.compile(r"<[^>]*>")


def slack_text_to_query(text: str) -> str:
    """Mentions dropped, links and channels reduced to their labels, other `<…>` removed."""
    text = _USER_MENTION.sub(" ", text or "")
    text = _LABELLED.sub(r"\1", text)
    text = _CONTROL.sub(" ", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def has_topic(question: str, deps: Deps) -> bool:
    """Does the question name something beyond stop words and section names
    ("@hubs references?" does not: it asks about the thread it is in)?"""
    response = deps.index.search(question, limit=1)
    if response.no_match:
        return False
    intent = set((response.results[0].intent or "").split())
    typed = set((response.results[0].intent_typed or "").split())
    return any(w not in intent and w not in typed and not is_stopword(w) for w in words(question))


def ask(deps: Deps, question: str, source: str, limit: int, context: str = "") -> SearchResponse:
    """Search, and log the question for `hubs-bot stats` (a logging failure never costs the
    user the answer). ``context``: what the thread is about, for a question without a topic."""
    response = deps.index.search(question, limit=limit, context=context)
    first = response.results[0].section.key if response.results else None
    try:
        deps.store.record_query(source, response.query, first)
    except Exception:  # the database being down must not stop answers
        log.exception("could not record the question", extra={"source": source})
    metrics.QUESTIONS.labels(source, "no" if first is None else "yes").inc()
    summary = {
        "source": source,
        "section": first,
        "no_match": first is None,
        "words": len(response.query.split()),
    }
    if not add_to_request_line(**summary):  # answered after the ack: a line of its own
        log.info("question answered", extra=summary)
    return response


def search_for_rank(deps: Deps, question: str, rank: int) -> SearchResponse:
    """Enough results to show ``rank`` and to know whether a next one exists."""
    return deps.index.search(question, limit=max(rank + 2, deps.settings.result_limit))


HELP = frozenset({"", "help", "?"})


def waits_on_the_store(text: str) -> bool:
    """Does answering `/hubs <text>` read the database (help shows the digest's channel)?
    Every other answer is a search in memory: its question is only queued for the log."""
    return text.strip().casefold() in HELP


def command_reply(
    text: str, deps: Deps, team_id: str | None = None, bot_user_id: str | None = None
) -> render.Message:
    """What `/hubs <text>` answers (``bot_user_id``: how help tells people to mention it)."""
    keyword = text.strip().casefold()
    corpus = deps.index.corpus
    if keyword in HELP:
        plan = deps.digest_plan(team_id)
        return render.help_message(corpus, plan.channel, deps.next_digest_run(plan), bot_user_id)
    if keyword == "list":
        return render.list_message(corpus)
    response = ask(deps, text, "slash", max(2, deps.settings.result_limit))
    if response.no_match:
        return render.no_match_message(response)
    return render.answer_message(response, 0)
