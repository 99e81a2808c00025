"""Message shortcut "Find in playbooks": any message's text becomes the question."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.render import blocks as bk
from bot.render import slack as render
from bot.slack.listeners.later import after_ack
from bot.slack.listeners.queries import ask, slack_text_to_query
from bot.slack.listeners.replies import explain, slack_error

if TYPE_CHECKING:
    from slack_bolt import App, Respond
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

CALLBACK_ID = "find_in_playbooks"


def register(app: App, deps: Deps) -> None:
    @after_ack(app.shortcut(CALLBACK_ID))
    def find_in_playbooks(
        body: dict[str, Any], client: WebClient, respond: Respond, context: dict[str, Any]
    ) -> None:
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        response = ask(deps, slack_text_to_query(message.get("text", "")), "shortcut", limit=2)
        text, blocks = render.thread_reply(response, deps.index.corpus, context.get("bot_user_id"))
        try:
            deps.outbox.send(
                client,
                (body.get("team") or {}).get("id") or "",
                channel=channel,
                thread_ts=message.get("thread_ts") or message.get("ts"),
                text=text,
                blocks=blocks,
            )
        except SlackApiError as exc:
            reason = explain(exc)
            log.info("shortcut answered privately", extra={"error": slack_error(exc)})
            if reason is None:
                raise
            note = bk.context(f"{reason} Only you can see this answer.")
            respond(response_type="ephemeral", text=text, blocks=[*blocks, note])
