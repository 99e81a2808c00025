"""`@hubs` mentions (answered in the thread) and direct messages.

Slack retries an event it thinks was not acknowledged in time (``X-Slack-Retry-Num``), and a
mention can also arrive as a ``message`` event: both are answered once, because each reply is
preceded by a claim in the store (shared by every worker and host) on the event id and on the
message's channel+ts.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.render import slack as render
from bot.slack.listeners.later import after_ack
from bot.slack.listeners.queries import ask, has_topic, slack_text_to_query
from bot.slack.listeners.replies import slack_error

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

WORKING_REACTION = "mag"


def first_time(deps: Deps, body: dict[str, Any], event: dict[str, Any]) -> bool:
    """Claim both the delivery (event_id) and the message (channel+ts); False = seen."""
    event_id = body.get("event_id")
    if event_id and not deps.store.claim_event(str(event_id)):
        log.info("duplicate event ignored", extra={"event_id": event_id})
        return False
    message_key = f"msg:{event.get('channel')}:{event.get('ts')}"
    if not deps.store.claim_event(message_key):
        log.info("message already answered", extra={"event_id": event_id})
        return False
    return True


# Messages people write: no subtype, or one of these (a file attached, a thread reply also
# sent to the channel, /me). Every other subtype is an edit, a deletion, a join, a bot...
PEOPLES_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})


def from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Not a person's message: an allow-list of subtypes, not "has a subtype"."""
    return bool(
        event.get("bot_id")
        or event.get("subtype") not in PEOPLES_SUBTYPES
        or (bot_user_id and event.get("user") == bot_user_id)
    )


def answer_in_thread(
    deps: Deps,
    client: WebClient,
    event: dict[str, Any],
    question: str,
    thread_ts: str | None,
    source: str,
    context: dict[str, Any],
    about: str = "",
) -> None:
    channel = event["channel"]
    team_id = context.get("team_id") or ""
    response = ask(deps, question, source, limit=2, context=about)
    text, blocks = render.thread_reply(response, deps.index.corpus, context.get("bot_user_id"))
    try:
        deps.outbox.send(
            client, team_id, channel=channel, thread_ts=thread_ts, text=text, blocks=blocks
        )
    except SlackApiError as exc:  # not Slack's trouble (kept for later) but ours to report
        log.error("reply failed", extra={"channel": channel, "error": slack_error(exc)})


def register(app: App, deps: Deps) -> None:
    @after_ack(app.event("app_mention"))
    def mention(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        if from_a_bot(event, context.get("bot_user_id")) or not first_time(deps, body, event):
            return
        channel, ts = event["channel"], event["ts"]
        thread_ts = event.get("thread_ts") or ts
        question = slack_text_to_query(event.get("text", ""))
        about = ""
        if event.get("thread_ts") and not has_topic(question, deps):
            # "@hubs who wrote this?" asks about the thread's subject: its first message
            about = parent_text(client, channel, event["thread_ts"])
        react(client, "reactions_add", channel, ts)
        try:
            answer_in_thread(
                deps, client, event, question, thread_ts, "mention", context, about=about
            )
        finally:
            react(client, "reactions_remove", channel, ts)

    @after_ack(app.event("message"))
    def direct_message(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        if event.get("channel_type") != "im" or from_a_bot(event, context.get("bot_user_id")):
            return  # channel messages reach us only as app_mention
        if not first_time(deps, body, event):
            return
        question = slack_text_to_query(event.get("text", ""))
        answer_in_thread(deps, client, event, question, event.get("thread_ts"), "dm", context)


def parent_text(client: WebClient, channel: str, thread_ts: str) -> str:
    """The thread's first message, as the question for a bare "@hubs references?"."""
    try:
        replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
    except SlackApiError as exc:
        log.warning("cannot read the thread", extra={"error": slack_error(exc)})
        return ""
    messages = replies.get("messages") or []
    return slack_text_to_query(messages[0].get("text", "")) if messages else ""


def react(client: WebClient, method: str, channel: str, ts: str) -> None:
    """The :mag: while working; a missing scope or a race must not stop the answer."""
    try:
        getattr(client, method)(channel=channel, timestamp=ts, name=WORKING_REACTION)
    except SlackApiError as exc:
        log.info("reaction skipped", extra={"method": method, "error": slack_error(exc)})
