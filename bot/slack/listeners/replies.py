"""Errors a user can act on (`not_in_channel`, `channel_not_found`, `is_archived`) become
one clear sentence instead of a stack trace."""

from __future__ import annotations

from bot.slack_api.client import post_message, slack_error

__all__ = ["explain", "post_message", "slack_error"]

USER_FIXABLE = {
    "not_in_channel": "I'm not in this channel. Invite me with `/invite @hubs`, then try again.",
    "channel_not_found": "I can't see this channel. Invite me with `/invite @hubs` first.",
    "is_archived": "This channel is archived, so I can't post in it.",
    # announcement-only and other restricted channels: Slack's variants of "not here"
    "restricted_action": "Only some people can post in this channel, so I can't reply here.",
    "restricted_action_read_only_channel": "This channel is read-only for me.",
    "restricted_action_thread_only_channel": "This channel takes replies in threads only.",
    "restricted_action_non_threadable_channel": "This channel takes no thread replies.",
}


def explain(exc: Exception) -> str | None:
    """The sentence to show a user for an error they can fix, else None."""
    return USER_FIXABLE.get(slack_error(exc))
