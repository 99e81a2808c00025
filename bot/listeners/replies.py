"""Posting replies: the Slack-facing half every listener shares.

Two rules live here once: a post whose blocks Slack rejects is sent again as plain text (never
dropped), and the errors a user can act on (`not_in_channel`, `channel_not_found`,
`is_archived`) become one clear sentence instead of a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

RETRY_AS_TEXT = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long"})
USER_FIXABLE = {
    "not_in_channel": "I'm not in this channel. Invite me with `/invite @hubs`, then try again.",
    "channel_not_found": "I can't see this channel. Invite me with `/invite @hubs` first.",
    "is_archived": "This channel is archived, so I can't post in it.",
}


def slack_error(exc: SlackApiError) -> str:
    data = exc.response.data if exc.response is not None else None
    return str(data.get("error")) if isinstance(data, dict) and data.get("error") else "unknown"


def post_message(client: WebClient, **kwargs: Any) -> dict[str, Any]:
    """chat.postMessage, retried once as text when the blocks are refused."""
    try:
        return client.chat_postMessage(unfurl_links=False, unfurl_media=False, **kwargs).data  # type: ignore[return-value]
    except SlackApiError as exc:
        if slack_error(exc) not in RETRY_AS_TEXT or "blocks" not in kwargs:
            raise
        log.warning("blocks rejected; sending text", extra={"error": slack_error(exc)})
        kwargs.pop("blocks")
        return client.chat_postMessage(**kwargs).data  # type: ignore[return-value]


def explain(exc: SlackApiError) -> str | None:
    """The sentence to show a user for an error they can fix, else None."""
    return USER_FIXABLE.get(slack_error(exc))
