"""The last line of defence: a listener (or middleware) that raises.

Listeners acknowledge first and work after, so by the time one fails Slack has its 200 and
the click or command looks accepted: the ack stands. What is left to do is to log the failure
once (Bolt's default handler would log it too, so this replaces it rather than adding to it)
and tell the person something went wrong, where that is possible: through the
``response_url`` when the payload has one, else privately in the channel it came from. An
apology that cannot be delivered (no channel, the bot not in it, Slack down) is noted, not
raised: one failure, one error line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.slack_api.client import slack_error

if TYPE_CHECKING:
    from slack_bolt import App, BoltContext
    from slack_sdk import WebClient

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side with that. Please try again in a moment."


def register(app: App) -> None:
    app.error(listener_failed)


def listener_failed(
    error: Exception, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Bolt's global error handler, and what work after the ack (``later``) calls when it
    fails: Bolt's lazy runner would only log one line without the trace."""
    log.error(
        "listener failed",
        exc_info=error,
        extra={"kind": request_kind(body), "what": what_failed(body)},
    )
    apologise(body, context, client)


def request_kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "slash"
    return str(body.get("type") or "unknown")


def what_failed(body: dict[str, Any]) -> str:
    """The action id, command, callback id or event type: never the user's text."""
    actions = body.get("actions") or [{}]
    event = body.get("event") or {}
    return str(
        actions[0].get("action_id")
        or body.get("command")
        or body.get("callback_id")
        or event.get("type")
        or ""
    )


def where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and user a payload came from (actions, commands, shortcuts, events)."""
    event = body.get("event") or {}
    channel = (
        (body.get("channel") or {}).get("id") or body.get("channel_id") or event.get("channel")
    )
    user = (body.get("user") or {}).get("id") or body.get("user_id") or event.get("user")
    return channel, user


def apologise(body: dict[str, Any], context: BoltContext, client: WebClient) -> str | None:
    """A short private apology; returns how it went ("response_url", "ephemeral") or None."""
    respond = context.get("respond")
    channel, user = where(body)
    try:
        if context.response_url and respond is not None:
            respond(response_type="ephemeral", replace_original=False, text=APOLOGY)
            return "response_url"
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=APOLOGY)
            return "ephemeral"
    except Exception as exc:  # the apology is a courtesy: never a second failure
        log.info("could not apologise", extra={"error": slack_error(exc)})
        return None
    log.info("nowhere to apologise", extra={"kind": request_kind(body)})
    return None
